// SPDX-License-Identifier: GPL-2.0
// Generic tracepoint probe: counts, sums or histograms a classic tracepoint's
// events keyed by up to two operands. Fields are read from the raw record at
// the offsets user space took from the event's format (or BTF), so one
// program serves every tracepoint; it is attached with
// bpf_program__attach_tracepoint(CATEGORY, NAME).
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "generic.h"
// clang-format on

struct generic_event {
  void* record;  // the raw trace record: common fields, then the event's
};

// Sign- or zero-extends the `size`-byte integer at `p`.
static __always_inline int read_int(const void* p, __u32 size, __u32 is_signed, __s64* num) {
  switch (size) {
    case 1: {
      __u8 v = 0;
      if (bpf_probe_read_kernel(&v, 1, p)) return -1;
      *num = is_signed ? (__s64)(__s8)v : (__s64)v;
      return 0;
    }
    case 2: {
      __u16 v = 0;
      if (bpf_probe_read_kernel(&v, 2, p)) return -1;
      *num = is_signed ? (__s64)(__s16)v : (__s64)v;
      return 0;
    }
    case 4: {
      __u32 v = 0;
      if (bpf_probe_read_kernel(&v, 4, p)) return -1;
      *num = is_signed ? (__s64)(__s32)v : (__s64)v;
      return 0;
    }
    case 8: {
      __u64 v = 0;
      if (bpf_probe_read_kernel(&v, 8, p)) return -1;
      *num = (__s64)v;
      return 0;
    }
  }
  return -1;
}

static __always_inline int family_operand(struct generic_event* ev, __u32 src, __u32 index,
                                          __u32 offset, __u32 size, __u32 is_signed, __s64* num,
                                          char* str) {
  const char* field = (const char*)ev->record + offset;
  switch (src) {
    case GENERIC_SRC_FIELD_NUM:
      return read_int(field, size, is_signed, num);
    case GENERIC_SRC_FIELD_CHARS: {
      // Up to `size` bytes of a char[size] (plus a NUL): stops at its NUL.
      __u32 n = size + 1;
      if (n > GENERIC_STR_LEN) n = GENERIC_STR_LEN;
      if (bpf_probe_read_kernel_str(str, n, field) < 0) return -1;
      return 1;
    }
    case GENERIC_SRC_FIELD_DATALOC: {
      // __data_loc: low 16 bits the offset of the data in the record,
      // high 16 bits its length.
      __u32 loc = 0;
      if (bpf_probe_read_kernel(&loc, sizeof(loc), field)) return -1;
      const char* data = (const char*)ev->record + (loc & 0xffff);
      if (bpf_probe_read_kernel_str(str, GENERIC_STR_LEN, data) < 0) return -1;
      return 1;
    }
  }
  return -1;
}

#include "generic_common.bpf.h"

SEC("tracepoint")
int generic_tp(void* ctx) {
  struct generic_event ev = {.record = ctx};
  generic_record(&ev);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
