/* Shared between syscalls.bpf.c and syscalls_probe.cc: plain C, fixed-width
 * types only. The includer provides __u32/__u64 (vmlinux.h in BPF code,
 * <linux/types.h> in user space). */
#ifndef ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_
#define ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_

#define SYSCALLS_COMM_LEN 16
/* Default capacity of the counts map; user space may change it before load. */
#define SYSCALLS_MAX_KEYS 16384

/* One series: a process name and a syscall number. */
struct syscalls_key {
  char comm[SYSCALLS_COMM_LEN];
  __u32 nr;
};

#endif /* ANDON_AGENT_PROBES_SYSCALLS_SYSCALLS_H_ */
