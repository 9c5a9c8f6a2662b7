// SPDX-License-Identifier: GPL-2.0
// The floor of probe_overhead: the least a BPF program can do to count
// syscalls. raw_tracepoint/sys_enter adds one to this CPU's slot of a
// one-entry per-CPU array: no key to build, no hash, no helper beyond the
// lookup (which the verifier inlines for arrays). Whatever a real probe adds
// above this is the price of what it records. floor_sys_exit, the same at
// sys_exit, is loaded only for the floor of a probe that attaches both (as
// the syscalls probe does to measure latency).
// vmlinux.h must come first: the BPF headers use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
// clang-format on

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} hits SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int floor_sys_enter(struct bpf_raw_tracepoint_args* ctx) {
  __u32 zero = 0;
  __u64* n = bpf_map_lookup_elem(&hits, &zero);
  if (n) *n += 1;  // this CPU's slot; sys_enter does not nest on a CPU
  return 0;
}

SEC("raw_tracepoint/sys_exit")
int floor_sys_exit(struct bpf_raw_tracepoint_args* ctx) {
  __u32 zero = 0;
  __u64* n = bpf_map_lookup_elem(&hits, &zero);
  if (n) *n += 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
