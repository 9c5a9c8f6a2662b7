// SPDX-License-Identifier: GPL-2.0
// The part every generic program shares: the globals that steer it, its maps
// and generic_record(), which filters, keys and counts one event. The
// including .bpf.c file first defines `struct generic_event` and
//   static __always_inline int family_operand(struct generic_event* ev,
//       __u32 src, __u32 index, __u32 offset, __u32 size, __u32 is_signed,
//       __s64* num, char* str);
// which reads the family's own operands (fields, arguments, retval) and
// returns 0 for a number in *num, 1 for a string in str, -1 if unavailable.
#ifndef ANDON_AGENT_PROBES_GENERIC_GENERIC_COMMON_BPF_H_
#define ANDON_AGENT_PROBES_GENERIC_GENERIC_COMMON_BPF_H_

#include "common/value/log_linear_bucket.h"

// Set by user space between open and load; indexed by GENERIC_SLOT_*.
const volatile __u32 op_src[GENERIC_SLOTS] = {};
const volatile __u32 op_index[GENERIC_SLOTS] = {};   // argument number
const volatile __u32 op_offset[GENERIC_SLOTS] = {};  // tracepoint field offset
const volatile __u32 op_size[GENERIC_SLOTS] = {};    // tracepoint field size
const volatile __u32 op_signed[GENERIC_SLOTS] = {};
const volatile __u32 value_mode = GENERIC_COUNT;
const volatile __u32 filter_op = GENERIC_OP_NONE;
const volatile __s64 filter_number = 0;
const volatile char filter_text[GENERIC_STR_LEN] = {};
const volatile __u64 events_per_tick = 0;  // per CPU; 0 = no budget

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);  // a bound, not a reservation
  __uint(max_entries, GENERIC_MAX_KEYS);
  __type(key, struct generic_key);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, GENERIC_MAX_HIST);  // user space shrinks it unless DIST
  __type(key, struct generic_hist_key);
  __type(value, __u64);
} hist SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, GENERIC_STATS);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

struct generic_budget {
  __u64 tick;
  __u64 used;
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct generic_budget);
} budget SEC(".maps");

// Scratch for the histogram key: too big for the stack next to the others.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct generic_hist_key);
} hist_scratch SEC(".maps");

static __always_inline void stat_add(__u32 slot) {
  __u64* s = bpf_map_lookup_elem(&stats, &slot);
  if (s) __sync_fetch_and_add(s, 1);
}

// Adds `n` to the per-CPU slot of `key`, inserting it if new. Atomic because
// uprobe programs may be preempted by another task on the same CPU.
static __always_inline void map_add(void* map, const void* key, __u64 n) {
  __u64* v = bpf_map_lookup_elem(map, key);
  if (!v) {
    long err = bpf_map_update_elem(map, key, &n, BPF_NOEXIST);
    if (err == 0) return;
    v = bpf_map_lookup_elem(map, key);  // EEXIST: another CPU inserted it
    if (!v) {
      stat_add(GENERIC_STAT_FULL);
      return;
    }
  }
  __sync_fetch_and_add(v, n);
}

// True if this CPU may record one more event in the current tick.
static __always_inline int budget_take(void) {
  if (!events_per_tick) return 1;
  __u32 zero = 0;
  struct generic_budget* b = bpf_map_lookup_elem(&budget, &zero);
  if (!b) return 1;
  __u64 tick = bpf_ktime_get_ns() / GENERIC_TICK_NS;
  if (b->tick != tick) {
    b->tick = tick;
    b->used = 0;
  }
  if (b->used >= events_per_tick) return 0;
  b->used++;
  return 1;
}

static __always_inline int read_operand(struct generic_event* ev, __u32 slot, __s64* num,
                                        char* str) {
  __u32 src = op_src[slot];
  if (src == GENERIC_SRC_COMM) {
    bpf_get_current_comm(str, 16);
    return 1;
  }
  if (src == GENERIC_SRC_PID) {
    *num = bpf_get_current_pid_tgid() >> 32;
    return 0;
  }
  return family_operand(ev, src, op_index[slot], op_offset[slot], op_size[slot], op_signed[slot],
                        num, str);
}

static __always_inline int filter_passes(struct generic_event* ev) {
  if (filter_op == GENERIC_OP_NONE) return 1;
  __s64 n = 0;
  char s[GENERIC_STR_LEN] = {};
  int kind = read_operand(ev, GENERIC_SLOT_FILTER, &n, s);
  if (kind < 0) return 0;
  if (kind == 1) {
    // Branch-free: a branch per byte would double the verifier's states 32
    // times over.
    __u8 diff = 0;
#pragma unroll
    for (int i = 0; i < GENERIC_STR_LEN; i++) diff |= s[i] ^ filter_text[i];
    return filter_op == GENERIC_OP_NE ? diff != 0 : diff == 0;
  }
  switch (filter_op) {
    case GENERIC_OP_EQ: return n == filter_number;
    case GENERIC_OP_NE: return n != filter_number;
    case GENERIC_OP_LT: return n < filter_number;
    case GENERIC_OP_LE: return n <= filter_number;
    case GENERIC_OP_GT: return n > filter_number;
    case GENERIC_OP_GE: return n >= filter_number;
  }
  return 0;
}

// Filters, keys and counts one event.
static __always_inline void generic_record(struct generic_event* ev) {
  if (!filter_passes(ev)) return;
  if (!budget_take()) {
    stat_add(GENERIC_STAT_SAMPLED);
    return;
  }
  __u32 zero = 0;
  struct generic_hist_key* hk = bpf_map_lookup_elem(&hist_scratch, &zero);
  if (!hk) return;
  __builtin_memset(hk, 0, sizeof(*hk));
  __s64 n = 0;
  if (op_src[GENERIC_SLOT_BY0] != GENERIC_SRC_NONE) {
    int kind = read_operand(ev, GENERIC_SLOT_BY0, &n, hk->key.str[0]);
    if (kind < 0) return;
    if (kind == 0) hk->key.num[0] = n;
  }
  if (op_src[GENERIC_SLOT_BY1] != GENERIC_SRC_NONE) {
    n = 0;
    int kind = read_operand(ev, GENERIC_SLOT_BY1, &n, hk->key.str[1]);
    if (kind < 0) return;
    if (kind == 0) hk->key.num[1] = n;
  }
  __u64 value = 1;
  if (value_mode != GENERIC_COUNT) {
    char unused[GENERIC_STR_LEN];
    n = 0;
    if (read_operand(ev, GENERIC_SLOT_VALUE, &n, unused) != 0) return;
    value = n < 0 ? 0 : (__u64)n;  // negative values count as 0
  }
  map_add(&counts, &hk->key, value);
  if (value_mode == GENERIC_DIST) {
    hk->bucket = andon_log_linear_bucket(value);
    map_add(&hist, hk, 1);
  }
  stat_add(GENERIC_STAT_HITS);
}

#endif  // ANDON_AGENT_PROBES_GENERIC_GENERIC_COMMON_BPF_H_
