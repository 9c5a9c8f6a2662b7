/* Shared between exec.bpf.c and exec_probe.cc: plain C, fixed-width types
 * only. The includer provides __u32 (vmlinux.h or <linux/types.h>). */
#ifndef ANDON_AGENT_PROBES_EXEC_EXEC_H_
#define ANDON_AGENT_PROBES_EXEC_EXEC_H_

#define EXEC_COMM_LEN 16
#define EXEC_FILENAME_LEN 256

/* One successful execve, as sent through the ring buffer. */
struct exec_event {
  __u32 pid;                        /* tgid of the process that exec'd */
  __u32 ppid;                       /* tgid of its parent */
  char comm[EXEC_COMM_LEN];         /* the new program's name */
  char filename[EXEC_FILENAME_LEN]; /* path passed to execve, truncated */
};

#endif /* ANDON_AGENT_PROBES_EXEC_EXEC_H_ */
