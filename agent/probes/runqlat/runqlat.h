/* Shared between runqlat.bpf.c and runqlat_probe.cc: plain C, fixed-width
 * types only. The includer provides __u32 (vmlinux.h in BPF code,
 * <linux/types.h> in user space). */
#ifndef ANDON_AGENT_PROBES_RUNQLAT_RUNQLAT_H_
#define ANDON_AGENT_PROBES_RUNQLAT_RUNQLAT_H_

#define RUNQLAT_COMM_LEN 16
/* Default capacity of the histogram map; user space may change it. */
#define RUNQLAT_MAX_KEYS 65536

/* One cumulative per-CPU counter: tasks named `comm` that waited a time in
 * `bucket` (andon_log_linear_bucket of ns). No padding: user space compares
 * raw bytes. */
struct runqlat_key {
  char comm[RUNQLAT_COMM_LEN];
  __u32 bucket;
};

#endif /* ANDON_AGENT_PROBES_RUNQLAT_RUNQLAT_H_ */
