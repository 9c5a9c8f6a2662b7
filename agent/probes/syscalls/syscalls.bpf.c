// SPDX-License-Identifier: GPL-2.0
// Counts syscalls entered per (process name, syscall number) and, optionally,
// histograms their latency per (process name, syscall number).
//
// Counts live in per-CPU hashes so the hot path takes no lock and no atomic:
// each CPU increments its own slot, and user space sums the slots. Values are
// cumulative; user space turns them into per-window deltas, so no event is
// lost between reads. The entry timestamp of a syscall in flight lives in
// task-local storage (no lock, freed with the task) or, on kernels where
// raw tracepoints cannot use it, in a hash keyed by thread id.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "common/value/log_linear_bucket.h"
#include "syscalls.h"
// clang-format on

// x86_64 syscalls that never return, so sys_exit never sees them.
#define NR_EXIT 60
#define NR_EXIT_GROUP 231

// Tuning, set by user space between open and load.
const volatile __u32 ignore_tgid = 0;      // a process to leave out (0 = none)
const volatile __u8 measure_latency = 0;   // record entry times at sys_enter
const volatile __u8 use_task_storage = 0;  // start times in start_task, else start_hash

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, SYSCALLS_MAX_KEYS);
  __type(key, struct syscalls_key);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, SYSCALLS_MAX_LATENCY_KEYS);
  __type(key, struct syscalls_latency_key);
  __type(value, __u64);
} latency SEC(".maps");

// User space turns this into a one-entry hash when it is not used (kernels
// without task storage could not create it).
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct syscalls_start);
} start_task SEC(".maps");

// LRU: threads that die inside a syscall leave their slot behind.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SYSCALLS_MAX_THREADS);
  __type(key, __u32);
  __type(value, struct syscalls_start);
} start_hash SEC(".maps");

// Slot 0 counts events that found the counts or latency map full.
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

// Adds one to `key`'s slot on this CPU in the per-CPU hash `map`.
static __always_inline void increment(void* map, const void* key) {
  __u64* count = bpf_map_lookup_elem(map, key);
  if (count) {
    // This CPU's slot; no other CPU writes it, and the tracepoints do not nest.
    *count += 1;
    return;
  }
  __u64 one = 1;
  long err = bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
  if (err == -17 /* EEXIST: another CPU inserted the key just now */) {
    count = bpf_map_lookup_elem(map, key);
    if (count) {
      *count += 1;
      return;
    }
    count_drop();
  } else if (err) {
    count_drop();  // E2BIG/ENOMEM: the map is full
  }
}

// The current thread's start slot; created if `create`.
static __always_inline struct syscalls_start* start_slot(int create) {
  if (use_task_storage) {
    return bpf_task_storage_get(&start_task, bpf_get_current_task_btf(), 0,
                                create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
  }
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct syscalls_start* s = bpf_map_lookup_elem(&start_hash, &tid);
  if (s || !create) return s;
  // Lookup first: writing an existing slot in place takes no bucket lock.
  struct syscalls_start zero = {};
  bpf_map_update_elem(&start_hash, &tid, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&start_hash, &tid);
}

// raw_tracepoint/sys_enter: args[0] = struct pt_regs *, args[1] = syscall id.
SEC("raw_tracepoint/sys_enter")
int count_sys_enter(struct bpf_raw_tracepoint_args* ctx) {
  if (ignore_tgid && (bpf_get_current_pid_tgid() >> 32) == ignore_tgid) return 0;

  struct syscalls_key key = {};
  bpf_get_current_comm(&key.comm, sizeof(key.comm));
  key.nr = (__u32)ctx->args[1];
  increment(&counts, &key);

  if (!measure_latency) return 0;
  if (!use_task_storage && (key.nr == NR_EXIT || key.nr == NR_EXIT_GROUP)) return 0;
  struct syscalls_start* s = start_slot(1);
  if (!s) return 0;  // out of memory: this call is not timed
  s->nr = key.nr;
  s->ts = bpf_ktime_get_ns();
  return 0;
}

// raw_tracepoint/sys_exit: args[0] = struct pt_regs *, args[1] = return value.
// Attached only when latency is measured.
SEC("raw_tracepoint/sys_exit")
int record_sys_exit(struct bpf_raw_tracepoint_args* ctx) {
  if (ignore_tgid && (bpf_get_current_pid_tgid() >> 32) == ignore_tgid) return 0;
  struct syscalls_start* s = start_slot(0);
  if (!s || s->ts == 0) return 0;
  const __u64 start = s->ts;
  s->ts = 0;
  const __u64 now = bpf_ktime_get_ns();
  if (now < start) return 0;

  // comm at exit: after an execve, the new program's name, as in counts.
  struct syscalls_latency_key key = {};
  bpf_get_current_comm(&key.comm, sizeof(key.comm));
  key.nr = s->nr;
  key.bucket = (__u32)andon_log_linear_bucket(now - start);
  increment(&latency, &key);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
