// SPDX-License-Identifier: GPL-2.0
// Counts syscalls entered per (process name, syscall number).
//
// Counts live in a per-CPU hash so the hot path takes no lock and no atomic:
// each CPU increments its own slot, and user space sums the slots. Values are
// cumulative; user space turns them into per-window deltas, so no event is
// lost between reads.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "syscalls.h"
// clang-format on

// Tuning, set by user space between open and load.
const volatile __u32 ignore_tgid = 0;  // a process to leave out (0 = none)

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, SYSCALLS_MAX_KEYS);
  __type(key, struct syscalls_key);
  __type(value, __u64);
} counts SEC(".maps");

// Slot 0 counts events that found the counts map full.
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

// raw_tracepoint/sys_enter: args[0] = struct pt_regs *, args[1] = syscall id.
SEC("raw_tracepoint/sys_enter")
int count_sys_enter(struct bpf_raw_tracepoint_args* ctx) {
  if (ignore_tgid && (bpf_get_current_pid_tgid() >> 32) == ignore_tgid) return 0;

  struct syscalls_key key = {};
  bpf_get_current_comm(&key.comm, sizeof(key.comm));
  key.nr = (__u32)ctx->args[1];

  __u64* count = bpf_map_lookup_elem(&counts, &key);
  if (count) {
    // This CPU's slot; no other CPU writes it, and sys_enter does not nest.
    *count += 1;
    return 0;
  }
  __u64 one = 1;
  long err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
  if (err == -17 /* EEXIST: another CPU inserted the key just now */) {
    count = bpf_map_lookup_elem(&counts, &key);
    if (count) {
      *count += 1;
      return 0;
    }
    count_drop();
  } else if (err) {
    count_drop();  // E2BIG/ENOMEM: the map is full
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
