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

/* Per-CPU cell tables: the fast path. Each CPU keeps its own open-addressed
 * table of cells in a per-CPU array; a key is looked for in up to
 * SYSCALLS_PROBE_CELLS cells from its hash, and an empty one is claimed.
 * Keys that find no cell go to the per-CPU hashes above (the slow path).
 * Default cells per CPU; powers of two, user space may change them. */
#define SYSCALLS_COUNT_CELLS 4096
#define SYSCALLS_LATENCY_CELLS 16384
#define SYSCALLS_PROBE_CELLS 4

/* One cell: a key and its cumulative count on this CPU. count comes first
 * and is written last: user space takes a cell whose count is 0 as empty,
 * and reads the key only after a non-zero count. */
struct syscalls_cell {
  __u64 count;
  __u64 comm_lo; /* the comm's 16 bytes, as two words */
  __u64 comm_hi;
  __u32 nr;
  __u32 bucket; /* latency cells: the log-linear bucket; count cells: 0 */
};

/* A thread's syscall in flight, written at sys_enter and read at sys_exit.
 * ts == 0: none (the probe attached mid-call, or it was taken already). */
struct syscalls_start {
  __u64 ts; /* bpf_ktime_get_ns() at entry */
  __u32 nr;
  __u32 pad;
  __u64 comm_lo; /* the comm at entry */
  __u64 comm_hi;
};

#endif /* ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_ */
