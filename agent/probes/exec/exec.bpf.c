// SPDX-License-Identifier: GPL-2.0
// Reports every successful exec through a ring buffer. Execs are rare enough
// (hundreds per second at most on busy hosts) that user space can count them
// per comm and keep the raw events for live tails.
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

// Fills and submits one event; `filename` is a kernel pointer to the path.
static __always_inline int emit_exec(const void* filename) {
  struct exec_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __u32 zero = 0;
    __u64* d = bpf_map_lookup_elem(&drops, &zero);
    if (d) *d += 1;
    return 0;
  }
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  // By this tracepoint the kernel has already renamed the task after the new
  // program, so comm is the new name ("true", not the shell that ran it).
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), filename);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

// Two entry points for the same event; user space attaches exactly one.
// The classic tracepoint has a stable format but needs tracefs mounted to
// resolve its id; the BTF tracepoint works without tracefs.
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

char LICENSE[] SEC("license") = "GPL";
