// SPDX-License-Identifier: GPL-2.0
// Reports every successful exec and every process exit through a ring buffer.
// Both are rare enough (hundreds per second at most on busy hosts) that user
// space can count them per comm and keep the raw events for live tails.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "exec.h"
// clang-format on

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);  // user space may resize before load
} events SEC(".maps");

// Slot 0 counts events lost because the ring buffer was full.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void) {
  __u32 zero = 0;
  __u64* d = bpf_map_lookup_elem(&drops, &zero);
  if (d) *d += 1;
}

// Fills and submits one exec event; `filename` is a kernel pointer to the path.
static __always_inline int emit_exec(const void* filename) {
  struct exec_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count_drop();
    return 0;
  }
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  e->type = EXEC_EVENT_EXEC;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = 0;
  e->lifetime_ns = 0;
  // By this tracepoint the kernel has already renamed the task after the new
  // program, so comm is the new name ("true", not the shell that ran it).
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), filename);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

// Reports the exit of the current task if it is a thread group leader, i.e.
// the process as a whole (its other threads are reported by nobody). The
// tracepoint carries no exit code, but do_exit() stores it in the task just
// before firing it.
static __always_inline int emit_exit(void) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if ((__u32)pid_tgid != (__u32)(pid_tgid >> 32)) return 0;
  struct exec_event* e = bpf_ringbuf_reserve(&events, EXEC_EXIT_EVENT_SIZE, 0);
  if (!e) {
    count_drop();
    return 0;
  }
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  e->type = EXEC_EVENT_EXIT;
  e->pid = pid_tgid >> 32;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = BPF_CORE_READ(task, exit_code);
  // start_time is CLOCK_MONOTONIC ns, as bpf_ktime_get_ns().
  e->lifetime_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

// Several entry points per event; user space attaches exactly one of each.
// The classic tracepoint has a stable format but needs tracefs mounted to
// resolve its id; the BTF and raw tracepoints work without tracefs.
SEC("tracepoint/sched/sched_process_exec")
int handle_exec_tp(struct trace_event_raw_sched_process_exec* ctx) {
  // filename is a __data_loc field: low 16 bits are its offset in the record.
  unsigned int off = ctx->__data_loc_filename & 0xFFFF;
  return emit_exec((void*)ctx + off);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec_btf, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  return emit_exec(BPF_CORE_READ(bprm, filename));
}

// The exit hooks read everything from the current task, so they do not
// depend on the tracepoint's arguments (6.16 added `group_dead`).
SEC("tracepoint/sched/sched_process_exit")
int handle_exit_tp(void* ctx) { return emit_exit(); }

SEC("tp_btf/sched_process_exit")
int handle_exit_btf(void* ctx) { return emit_exit(); }

SEC("raw_tracepoint/sched_process_exit")
int handle_exit_raw(struct bpf_raw_tracepoint_args* ctx) { return emit_exit(); }

char LICENSE[] SEC("license") = "GPL";
