/* Shared between profile.bpf.c and profile_probe.cc: plain C, fixed-width
 * types only. The includer provides __u32/__s32 (vmlinux.h in BPF code,
 * <linux/types.h> in user space). */
#ifndef ANDON_AGENT_PROBES_PROFILE_PROFILE_H_
#define ANDON_AGENT_PROBES_PROFILE_PROFILE_H_

#define PROFILE_COMM_LEN 16
#define PROFILE_MAX_STACK_DEPTH 127
/* Default capacities; user space may change them before load. */
#define PROFILE_MAX_KEYS 16384
#define PROFILE_MAX_STACKS 16384

/* Samples of one process in one (user stack, kernel stack). Stack ids index
 * the stack map; negative ids are the -errno of bpf_get_stackid (-EFAULT:
 * no such stack, e.g. a kernel thread's user stack). No padding: user space
 * compares raw bytes. */
struct profile_key {
  __u32 pid; /* tgid */
  __s32 user_stack_id;
  __s32 kernel_stack_id;
  char comm[PROFILE_COMM_LEN];
};

#endif /* ANDON_AGENT_PROBES_PROFILE_PROFILE_H_ */
