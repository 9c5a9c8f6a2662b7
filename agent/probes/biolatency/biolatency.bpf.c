// SPDX-License-Identifier: GPL-2.0
// Block I/O latency (issue to completion) and bytes per disk and operation.
//
// Histograms are bucketed in the kernel (andon_log_linear_bucket) into a
// per-CPU hash of cumulative counts, so the hot path takes no lock; user
// space reads per-window deltas. Two ways in, user space attaches one pair:
// tp_btf (typed struct request *, the request pointer keys its start time)
// and the classic tracepoint (dev and sector key it; needs tracefs).
// vmlinux.h must come first: the BPF headers and ours use its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "biolatency.h"
#include "common/value/log_linear_bucket.h"
// clang-format on

#define REQ_OP_BITS_MASK 0xff
#define SECTOR_SHIFT 9

// Issue time of requests in flight. LRU: a request whose completion is never
// seen (issued before a detach) ages out instead of filling the map.
struct start_key {
  __u64 id;  // tp_btf: the request pointer; tracepoint: the sector
  __u64 dev; // tracepoint only
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct start_key);
  __type(value, __u64);
} starts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, BIOLATENCY_MAX_KEYS);
  __type(key, struct biolatency_key);
  __type(value, __u64);
} counts SEC(".maps");

// Slot 0 counts updates lost because the counts map was full.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

// Kernels before 5.17 name the disk in the request itself.
struct request___old {
  struct gendisk* rq_disk;
} __attribute__((preserve_access_index));

static __always_inline void add(struct biolatency_key* key, __u64 n) {
  __u64* v = bpf_map_lookup_elem(&counts, key);
  if (v) {
    *v += n;  // this CPU's slot
    return;
  }
  long err = bpf_map_update_elem(&counts, key, &n, BPF_NOEXIST);
  if (err == -17 /* EEXIST: inserted concurrently */) {
    v = bpf_map_lookup_elem(&counts, key);
    if (v) {
      *v += n;
      return;
    }
  }
  if (err) {
    __u32 zero = 0;
    __u64* d = bpf_map_lookup_elem(&drops, &zero);
    if (d) *d += 1;
  }
}

static __always_inline void record(struct start_key* sk, __u32 dev, __u32 op, __u64 bytes) {
  __u64* start = bpf_map_lookup_elem(&starts, sk);
  if (!start) return;  // issued before we attached
  __u64 ns = bpf_ktime_get_ns() - *start;
  bpf_map_delete_elem(&starts, sk);
  if (op > BIOLATENCY_OP_DISCARD) return;  // zone, write-zeroes...: not reported
  struct biolatency_key key = {.dev = dev, .op = op, .kind = BIOLATENCY_KIND_LATENCY};
  key.bucket = andon_log_linear_bucket(ns);
  add(&key, 1);
  if (bytes) {
    key.kind = BIOLATENCY_KIND_BYTES;
    key.bucket = 0;
    add(&key, bytes);
  }
}

static __always_inline __u32 disk_dev(struct request* rq) {
  struct gendisk* disk;
  if (bpf_core_field_exists(rq->q->disk)) {
    disk = BPF_CORE_READ(rq, q, disk);
  } else {
    disk = BPF_CORE_READ((struct request___old*)rq, rq_disk);
  }
  if (!disk) return 0;
  return ((__u32)BPF_CORE_READ(disk, major) << 20) | (__u32)BPF_CORE_READ(disk, first_minor);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(issue_btf, struct request* rq) {
  struct start_key sk = {.id = (__u64)rq};
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&starts, &sk, &now, BPF_ANY);
  return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(complete_btf, struct request* rq, int error, unsigned int nr_bytes) {
  struct start_key sk = {.id = (__u64)rq};
  __u32 op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_BITS_MASK;
  record(&sk, disk_dev(rq), op, nr_bytes);
  return 0;
}

// The classic tracepoints give no request pointer, only dev and sector, and
// the operation as text ("W", "FWS", "R", "D", "F"; a leading F is a
// preflush flag when another letter follows).
static __always_inline __u32 op_of_rwbs(const char* rwbs) {
  char c = rwbs[0];
  if (c == 'F' && rwbs[1] != 0 && rwbs[1] != 'S' && rwbs[1] != 'M') c = rwbs[1];
  switch (c) {
    case 'R':
      return BIOLATENCY_OP_READ;
    case 'W':
      return BIOLATENCY_OP_WRITE;
    case 'F':
      return BIOLATENCY_OP_FLUSH;
    case 'D':
      return BIOLATENCY_OP_DISCARD;
  }
  return 0xff;
}

SEC("tracepoint/block/block_rq_issue")
int issue_tp(struct trace_event_raw_block_rq* ctx) {
  struct start_key sk = {.id = BPF_CORE_READ(ctx, sector), .dev = BPF_CORE_READ(ctx, dev)};
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&starts, &sk, &now, BPF_ANY);
  return 0;
}

SEC("tracepoint/block/block_rq_complete")
int complete_tp(struct trace_event_raw_block_rq_completion* ctx) {
  struct start_key sk = {.id = BPF_CORE_READ(ctx, sector), .dev = BPF_CORE_READ(ctx, dev)};
  char rwbs[4] = {};
  bpf_probe_read_kernel(rwbs, sizeof(rwbs) - 1, ctx->rwbs);
  __u64 bytes = (__u64)BPF_CORE_READ(ctx, nr_sector) << SECTOR_SHIFT;
  record(&sk, sk.dev, op_of_rwbs(rwbs), bytes);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
