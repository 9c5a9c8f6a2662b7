// SPDX-License-Identifier: GPL-2.0
// On-CPU sampling: on each cpu-clock perf event, counts the running process's
// (user stack, kernel stack) pair. Stacks are deduplicated by the kernel's
// stack map; user space drains the counts each collection and symbolizes.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "profile.h"
// clang-format on

#define EEXIST 17

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, PROFILE_MAX_STACKS);
  __type(key, __u32);
  __uint(value_size, PROFILE_MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, PROFILE_MAX_KEYS);
  __type(key, struct profile_key);
  __type(value, __u64);
} counts SEC(".maps");

// Slot 0 counts samples lost because the counts map was full.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

SEC("perf_event")
int do_sample(struct bpf_perf_event_data* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  if ((__u32)id == 0) return 0;  // the idle task: not on-CPU work

  struct profile_key key = {.pid = id >> 32};
  bpf_get_current_comm(key.comm, sizeof(key.comm));
  key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
  key.kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);

  __u64* v = bpf_map_lookup_elem(&counts, &key);
  if (v) {
    *v += 1;  // this CPU's slot
    return 0;
  }
  __u64 one = 1;
  long err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
  if (err == -EEXIST) {
    v = bpf_map_lookup_elem(&counts, &key);
    if (v) {
      *v += 1;
      return 0;
    }
  }
  if (err) {
    __u32 zero = 0;
    __u64* d = bpf_map_lookup_elem(&drops, &zero);
    if (d) *d += 1;
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
