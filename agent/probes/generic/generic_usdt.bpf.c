// SPDX-License-Identifier: GPL-2.0
// Generic USDT probe: counts, sums or histograms a user-space static probe's
// hits keyed by up to two operands. Arguments come from bpf_usdt_arg(), which
// decodes each probe site's argument spec that libbpf recorded at attach
// (bpf_program__attach_usdt), so one program serves every USDT probe.
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "generic.h"
// clang-format on

struct generic_event {
  struct pt_regs* regs;
};

static __always_inline int family_operand(struct generic_event* ev, __u32 src, __u32 index,
                                          __u32 offset, __u32 size, __u32 is_signed, __s64* num,
                                          char* str) {
  long arg = 0;
  if (src != GENERIC_SRC_ARG && src != GENERIC_SRC_STR_ARG) return -1;
  if (bpf_usdt_arg(ev->regs, index, &arg)) return -1;  // the site has fewer arguments
  if (src == GENERIC_SRC_ARG) {
    *num = arg;
    return 0;
  }
  if (bpf_probe_read_user_str(str, GENERIC_STR_LEN, (const void*)arg) < 0) return -1;
  return 1;
}

#include "generic_common.bpf.h"

SEC("usdt")
int generic_usdt(struct pt_regs* ctx) {
  struct generic_event ev = {.regs = ctx};
  generic_record(&ev);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
