/* Shared between exec.bpf.c and exec_probe.cc: plain C, fixed-width types
 * only. The includer provides __u32/__u64 (vmlinux.h or <linux/types.h>). */
#ifndef ANDON_AGENT_PROBES_EXEC_EXEC_H_
#define ANDON_AGENT_PROBES_EXEC_EXEC_H_

#define EXEC_COMM_LEN 16
#define EXEC_FILENAME_LEN 256

/* exec_event.type */
#define EXEC_EVENT_EXEC 1
#define EXEC_EVENT_EXIT 2

/* One successful execve or one process exit, as sent through the ring
 * buffer. Exit records stop before `filename` (they are reserved with
 * EXEC_EXIT_EVENT_SIZE bytes), so they cost a quarter of an exec record. */
struct exec_event {
  __u32 type;                       /* EXEC_EVENT_EXEC or EXEC_EVENT_EXIT */
  __u32 pid;                        /* tgid of the process */
  __u32 ppid;                       /* tgid of its parent */
  __u32 exit_code;                  /* exit: task->exit_code, a wait(2) status */
  __u64 lifetime_ns;                /* exit: time since the process started */
  char comm[EXEC_COMM_LEN];         /* exec: the new program's name; exit: the last */
  char filename[EXEC_FILENAME_LEN]; /* exec: path passed to execve, truncated */
};

#define EXEC_EXIT_EVENT_SIZE __builtin_offsetof(struct exec_event, filename)

#endif /* ANDON_AGENT_PROBES_EXEC_EXEC_H_ */
