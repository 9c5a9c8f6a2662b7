// SPDX-License-Identifier: GPL-2.0
// Counts syscalls entered per (process name, syscall number) and, optionally,
// histograms their latency per (process name, syscall number).
//
// The hot path takes no lock, no atomic and no hash-map lookup: each CPU
// keeps its own open-addressed table of cells in a per-CPU array (which the
// verifier inlines), found by a multiplicative hash of the key. A key that
// finds neither its cell nor an empty one among SYSCALLS_PROBE_CELLS goes to
// a per-CPU hash instead (the slow path, always correct). Values are
// cumulative; user space turns them into per-window deltas, so no event is
// lost between reads, and frees cells that stayed idle. The entry timestamp
// of a syscall in flight lives in task-local storage (no lock, freed with the
// task) or, on kernels where raw tracepoints cannot use it, in a hash keyed
// by thread id.
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
// Syscalls that change the comm: sys_exit reads it anew after them.
#define NR_EXECVE 59
#define NR_PRCTL 157
#define NR_EXECVEAT 322

// Tuning, set by user space between open and load.
const volatile __u32 ignore_tgid = 0;     // a process to leave out (0 = none)
const volatile __u8 measure_latency = 0;  // record entry times at sys_enter
// The task's BTF: comm read from the task and start times in start_task;
// else the comm helper and start_hash.
const volatile __u8 use_task_storage = 0;
// Cell tables: log2 of the cells per CPU; 0 = no table (every key takes the
// per-CPU hash).
const volatile __u32 count_cells_bits = 0;
const volatile __u32 latency_cells_bits = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SYSCALLS_COUNT_CELLS);
  __type(key, __u32);
  __type(value, struct syscalls_cell);
} count_cells SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SYSCALLS_LATENCY_CELLS);
  __type(key, __u32);
  __type(value, struct syscalls_cell);
} latency_cells SEC(".maps");

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

// A key's hash; its top `bits` bits pick the first cell.
static __always_inline __u64 cell_hash(__u64 lo, __u64 hi, __u32 nr, __u32 bucket) {
  return (lo * 0x9E3779B97F4A7C15ULL) ^ (hi * 0xC2B2AE3D27D4EB4FULL) ^
         (((__u64)bucket << 32 | nr) * 0x165667B19E3779F9ULL);
}

// Adds one to the key's cell in this CPU's `table` of 2^bits cells, claiming
// an empty cell if the key has none. Returns 0, or -1 when every cell it may
// use holds another key (the caller takes the slow path).
static __always_inline int cell_add(void* table, __u32 bits, __u64 lo, __u64 hi, __u32 nr,
                                    __u32 bucket) {
  const __u32 mask = (1u << bits) - 1;
  const __u32 first = (__u32)(cell_hash(lo, hi, nr, bucket) >> (64 - bits));
#pragma unroll
  for (__u32 i = 0; i < SYSCALLS_PROBE_CELLS; ++i) {
    __u32 index = (first + i) & mask;
    struct syscalls_cell* c = bpf_map_lookup_elem(table, &index);
    if (!c) return -1;
    // This CPU's cell: no other CPU writes it, and the tracepoints do not
    // nest. User space only zeroes cells that stayed idle on every CPU.
    if (c->count == 0) {
      c->comm_lo = lo;
      c->comm_hi = hi;
      c->nr = nr;
      c->bucket = bucket;
      asm volatile("" ::: "memory");  // the key before the count
      c->count = 1;
      return 0;
    }
    if (c->comm_lo == lo && c->comm_hi == hi && c->nr == nr && c->bucket == bucket) {
      c->count += 1;
      return 0;
    }
  }
  return -1;
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

// The comm's 16 bytes as two words.
struct comm_words {
  __u64 lo;
  __u64 hi;
};

// The current task's comm. Where the kernel gives raw tracepoints the task's
// BTF (the kernels with task storage), two plain loads from task->comm, which
// the kernel pads with zeros after the name; else the helper, which copies
// and pads it.
static __always_inline void read_comm(struct comm_words* comm) {
  if (use_task_storage) {
    struct task_struct* task = bpf_get_current_task_btf();
    comm->lo = *(__u64*)&task->comm[0];
    comm->hi = *(__u64*)&task->comm[8];
  } else {
    bpf_get_current_comm(comm, sizeof(*comm));
  }
}

// raw_tracepoint/sys_enter: args[0] = struct pt_regs *, args[1] = syscall id.
SEC("raw_tracepoint/sys_enter")
int count_sys_enter(struct bpf_raw_tracepoint_args* ctx) {
  if (ignore_tgid && (bpf_get_current_pid_tgid() >> 32) == ignore_tgid) return 0;

  struct comm_words comm = {};
  read_comm(&comm);
  const __u32 nr = (__u32)ctx->args[1];
  if (!count_cells_bits || cell_add(&count_cells, count_cells_bits, comm.lo, comm.hi, nr, 0)) {
    struct syscalls_key key = {};
    __builtin_memcpy(&key.comm, &comm, sizeof(comm));
    key.nr = nr;
    increment(&counts, &key);
  }

  if (!measure_latency) return 0;
  if (!use_task_storage && (nr == NR_EXIT || nr == NR_EXIT_GROUP)) return 0;
  struct syscalls_start* s = start_slot(1);
  if (!s) return 0;  // out of memory: this call is not timed
  s->nr = nr;
  s->comm_lo = comm.lo;
  s->comm_hi = comm.hi;
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

  // The comm at exit: after an execve or a prctl, the one it set.
  const __u32 nr = s->nr;
  struct comm_words comm = {s->comm_lo, s->comm_hi};
  if (nr == NR_EXECVE || nr == NR_EXECVEAT || nr == NR_PRCTL) read_comm(&comm);
  const __u32 bucket = (__u32)andon_log_linear_bucket(now - start);
  if (!latency_cells_bits ||
      cell_add(&latency_cells, latency_cells_bits, comm.lo, comm.hi, nr, bucket)) {
    struct syscalls_latency_key key = {};
    __builtin_memcpy(&key.comm, &comm, sizeof(comm));
    key.nr = nr;
    key.bucket = bucket;
    increment(&latency, &key);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
