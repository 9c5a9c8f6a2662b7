/* Shared between biolatency.bpf.c and biolatency_probe.cc: plain C,
 * fixed-width types only. The includer provides __u16/__u32 (vmlinux.h in
 * BPF code, <linux/types.h> in user space). */
#ifndef ANDON_AGENT_PROBES_BIOLATENCY_BIOLATENCY_H_
#define ANDON_AGENT_PROBES_BIOLATENCY_BIOLATENCY_H_

/* Default capacity of the histogram map; user space may change it. */
#define BIOLATENCY_MAX_KEYS 16384

/* The operations reported (the kernel's REQ_OP_* numbers). */
#define BIOLATENCY_OP_READ 0
#define BIOLATENCY_OP_WRITE 1
#define BIOLATENCY_OP_FLUSH 2
#define BIOLATENCY_OP_DISCARD 3

/* What a key's value counts. */
#define BIOLATENCY_KIND_LATENCY 0 /* requests whose latency fell in `bucket` */
#define BIOLATENCY_KIND_BYTES 1   /* bytes completed; bucket is 0 */

/* One cumulative per-CPU counter. No padding: user space compares raw bytes. */
struct biolatency_key {
  __u32 dev; /* whole disk, kernel dev_t encoding: major << 20 | minor */
  __u16 op;
  __u16 kind;
  __u32 bucket; /* andon_log_linear_bucket(latency ns) */
};

#endif /* ANDON_AGENT_PROBES_BIOLATENCY_BIOLATENCY_H_ */
