/* Shared between syscalls.bpf.c and syscalls_probe.cc: plain C, fixed-width
 * types only. The includer provides __u32/__u64 (vmlinux.h in BPF code,
 * <linux/types.h> in user space). */
#ifndef ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_
#define ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_

#define SYSCALLS_COMM_LEN 16
/* Default capacities; user space may change them before load. */
#define SYSCALLS_MAX_KEYS 16384
#define SYSCALLS_MAX_LATENCY_KEYS 32768
#define SYSCALLS_MAX_THREADS 65536

/* One series of the counts map: a process name and a syscall number. */
struct syscalls_key {
  char comm[SYSCALLS_COMM_LEN];
  __u32 nr;
};

/* One bucket of one latency distribution: the counts map's key plus the
 * log-linear bucket (common/value/log_linear_bucket.h) of the latency in ns. */
struct syscalls_latency_key {
  char comm[SYSCALLS_COMM_LEN];
  __u32 nr;
  __u32 bucket;
};

/* A thread's syscall in flight, written at sys_enter and read at sys_exit.
 * ts == 0: none (the probe attached mid-call, or it was taken already). */
struct syscalls_start {
  __u64 ts; /* bpf_ktime_get_ns() at entry */
  __u32 nr;
  __u32 pad;
};

#endif /* ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_ */
