// SPDX-License-Identifier: GPL-2.0
// Generic uprobe/uretprobe probe: counts, sums or histograms calls of a
// user-space function keyed by up to two operands (arguments, a string an
// argument points to, comm, pid, the return value). `generic_entry` is
// attached at the function, `generic_return` at its return:
//  - a uprobe without latency records at entry, from the registers;
//  - otherwise the entry saves its time and arguments per thread and the
//    return records, with latency = return - entry and retval.
// Calls that recurse within one thread overwrite the saved entry: latency is
// then that of the innermost call.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "generic.h"
// clang-format on

// 0: whichever program is attached records directly (a uprobe at entry, a
// uretprobe at return); 1: entry saves, return records.
const volatile __u32 save_entry = 0;

struct generic_event {
  __u64 args[GENERIC_MAX_ARGS];
  __u64 retval;
  __u64 latency;
};

// The entry of an in-flight call, per thread (pid_tgid). LRU: threads that
// die inside the function must not fill it.
struct inflight_call {
  __u64 start_ns;
  __u64 args[GENERIC_MAX_ARGS];
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 10240);
  __type(key, __u64);
  __type(value, struct inflight_call);
} inflight SEC(".maps");

static __always_inline int family_operand(struct generic_event* ev, __u32 src, __u32 index,
                                          __u32 offset, __u32 size, __u32 is_signed, __s64* num,
                                          char* str) {
  if (index >= GENERIC_MAX_ARGS) return -1;
  switch (src) {
    case GENERIC_SRC_ARG:
      *num = (__s64)ev->args[index];
      return 0;
    case GENERIC_SRC_STR_ARG:
      if (bpf_probe_read_user_str(str, GENERIC_STR_LEN, (const void*)ev->args[index]) < 0) {
        return -1;
      }
      return 1;
    case GENERIC_SRC_RETVAL:
      *num = (__s64)ev->retval;
      return 0;
    case GENERIC_SRC_LATENCY:
      *num = (__s64)ev->latency;
      return 0;
  }
  return -1;
}

#include "generic_common.bpf.h"

static __always_inline void read_args(struct pt_regs* ctx, __u64* args) {
  args[0] = PT_REGS_PARM1(ctx);
  args[1] = PT_REGS_PARM2(ctx);
  args[2] = PT_REGS_PARM3(ctx);
  args[3] = PT_REGS_PARM4(ctx);
  args[4] = PT_REGS_PARM5(ctx);
#ifdef PT_REGS_PARM6
  args[5] = PT_REGS_PARM6(ctx);
#else
  args[5] = ctx->r9;  // libbpf 1.1 stops at PARM5; x86-64's sixth is r9
#endif
}

SEC("uprobe")
int generic_entry(struct pt_regs* ctx) {
  if (!save_entry) {
    struct generic_event ev = {};
    read_args(ctx, ev.args);
    generic_record(&ev);
    return 0;
  }
  __u64 id = bpf_get_current_pid_tgid();
  struct inflight_call call = {};
  read_args(ctx, call.args);
  call.start_ns = bpf_ktime_get_ns();
  if (bpf_map_update_elem(&inflight, &id, &call, BPF_ANY)) stat_add(GENERIC_STAT_FULL);
  return 0;
}

SEC("uretprobe")
int generic_return(struct pt_regs* ctx) {
  struct generic_event ev = {};
  ev.retval = PT_REGS_RC(ctx);
  if (save_entry) {
    __u64 id = bpf_get_current_pid_tgid();
    struct inflight_call* call = bpf_map_lookup_elem(&inflight, &id);
    if (!call) {
      stat_add(GENERIC_STAT_MISSED);  // entered before we attached, or evicted
      return 0;
    }
    __builtin_memcpy(ev.args, call->args, sizeof(ev.args));
    ev.latency = bpf_ktime_get_ns() - call->start_ns;
    bpf_map_delete_elem(&inflight, &id);
  }
  generic_record(&ev);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
