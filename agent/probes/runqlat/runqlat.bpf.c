// SPDX-License-Identifier: GPL-2.0
// Run-queue latency: the time from a task becoming runnable (woken up, or
// preempted while still runnable) to running on a CPU, per process name.
//
// Latencies are bucketed in the kernel (andon_log_linear_bucket) into a
// per-CPU hash of cumulative counts keyed by (comm, bucket); user space
// derives the host-wide series and the top processes per window. Two ways
// in, user space attaches one set: tp_btf (typed arguments) or raw
// tracepoints (kernels without BTF tracepoints); both read task fields
// through CO-RE so they share one body.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "runqlat.h"
#include "common/value/log_linear_bucket.h"
// clang-format on

#define TASK_RUNNING 0

// When each runnable task was queued, by pid (thread id). LRU: a task that
// exits before running again ages out instead of filling the map.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 32768);
  __type(key, __u32);
  __type(value, __u64);
} queued_at SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, RUNQLAT_MAX_KEYS);
  __type(key, struct runqlat_key);
  __type(value, __u64);
} counts SEC(".maps");

// Slot 0 counts samples lost because the counts map was full.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

// Kernels before 5.14 call the state field `state`.
struct task_struct___old {
  long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct* t) {
  if (bpf_core_field_exists(t->__state)) return BPF_CORE_READ(t, __state);
  return BPF_CORE_READ((struct task_struct___old*)t, state);
}

static __always_inline void enqueue(struct task_struct* p) {
  __u32 pid = BPF_CORE_READ(p, pid);
  if (pid == 0) return;  // the idle task
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&queued_at, &pid, &now, BPF_ANY);
}

static __always_inline void count(struct runqlat_key* key) {
  __u64* v = bpf_map_lookup_elem(&counts, key);
  if (v) {
    *v += 1;  // this CPU's slot; sched_switch does not nest on a CPU
    return;
  }
  __u64 one = 1;
  long err = bpf_map_update_elem(&counts, key, &one, BPF_NOEXIST);
  if (err == -17 /* EEXIST: inserted concurrently */) {
    v = bpf_map_lookup_elem(&counts, key);
    if (v) {
      *v += 1;
      return;
    }
  }
  if (err) {
    __u32 zero = 0;
    __u64* d = bpf_map_lookup_elem(&drops, &zero);
    if (d) *d += 1;
  }
}

static __always_inline void on_switch(struct task_struct* prev, struct task_struct* next) {
  // Preempted while runnable: it waits in the run queue from now.
  if (task_state(prev) == TASK_RUNNING) enqueue(prev);

  __u32 pid = BPF_CORE_READ(next, pid);
  if (pid == 0) return;
  __u64* queued = bpf_map_lookup_elem(&queued_at, &pid);
  if (!queued) return;  // queued before we attached
  __u64 ns = bpf_ktime_get_ns() - *queued;
  bpf_map_delete_elem(&queued_at, &pid);

  struct runqlat_key key = {};
  bpf_probe_read_kernel_str(key.comm, sizeof(key.comm), next->comm);
  key.bucket = andon_log_linear_bucket(ns);
  count(&key);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wakeup_btf, struct task_struct* p) {
  enqueue(p);
  return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(wakeup_new_btf, struct task_struct* p) {
  enqueue(p);
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct* prev, struct task_struct* next) {
  on_switch(prev, next);
  return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(wakeup_raw, struct task_struct* p) {
  enqueue(p);
  return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(wakeup_new_raw, struct task_struct* p) {
  enqueue(p);
  return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct* prev, struct task_struct* next) {
  on_switch(prev, next);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
