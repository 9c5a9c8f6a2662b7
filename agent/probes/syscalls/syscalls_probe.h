#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "agent/probes/syscalls/cell_table.h"
#include "agent/probes/syscalls/percpu_counter_map.h"
#include "common/probe_catalog.h"

struct syscalls_bpf;  // generated skeleton; only syscalls_probe.cc sees it

namespace andon::agent {

struct SyscallsProbeOptions {
  uint32_t ignore_tgid = 0;   // a process whose syscalls are not counted; 0 = none
  uint32_t max_keys = 16384;  // (comm, syscall) pairs the kernel map can hold
  absl::Duration idle_eviction = absl::Seconds(60);  // forget pairs unchanged this long
  // Evict with lookup-then-delete from the start, as on kernels before 5.14
  // that cannot lookup-and-delete a per-CPU hash. For tests.
  bool force_eviction_fallback = false;
  // Also measure syscall_latency_ns (v1::BuiltinProbe::Syscalls.latency):
  // attaches sys_exit and records each call's entry time at sys_enter.
  bool latency = true;
  uint32_t max_latency_keys = 32768;  // (comm, syscall, bucket) triples
  // Threads with a call in flight, when entry times cannot be kept in
  // task-local storage (kernels where raw tracepoints lack it).
  uint32_t max_threads = 65536;
  // Keep entry times in the thread-id hash even where task storage works.
  // For tests of the fallback.
  bool force_start_hash = false;
  // Cells per CPU of the fast-path tables (syscalls.bpf.c), rounded down to a
  // power of two and to what kMaxCellTableBytes (syscalls_probe.cc) allows on this many CPUs;
  // 0 = no table (every key takes the per-CPU hashes). Keys that find no cell
  // take the hashes, so the tables' size bounds speed, not correctness.
  uint32_t count_cells = SYSCALLS_COUNT_CELLS;
  uint32_t latency_cells = SYSCALLS_LATENCY_CELLS;
};

// Counts syscalls per (comm, syscall) in kernel per-CPU tables and maps and emits the
// metric `syscalls` {comm, syscall} with exact per-window deltas, and, unless
// disabled, the distribution `syscall_latency_ns` {comm, syscall}: the kernel
// histograms each call's entry-to-exit time into log-linear buckets per
// (comm, syscall), and each window gets the buckets that grew. The kernel
// keeps cumulative counts; each Collect reads them all and emits what grew
// since the previous read. Keys idle for `idle_eviction` are removed from the
// maps so that they do not fill up with processes that are gone.
// Thread safety: as Probe; the eviction counters may be read from any thread.
class SyscallsProbe final : public Probe {
 public:
  explicit SyscallsProbe(SyscallsProbeOptions options = {});
  ~SyscallsProbe() override;

  // Keys removed from the kernel maps as idle, and evictions that failed.
  uint64_t evicted_keys() const { return stats_.evicted_keys.load(std::memory_order_relaxed); }
  uint64_t eviction_errors() const {
    return stats_.eviction_errors.load(std::memory_order_relaxed);
  }
  // Whether entry times are kept in task-local storage (else a tid hash).
  // Meaningful while running with latency on.
  bool uses_task_storage() const { return task_storage_; }

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("syscalls"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct SkelDeleter {
    void operator()(syscalls_bpf* skel) const;
  };

  // Opens, sizes, loads and attaches the BPF object, with entry times in
  // task storage or in the tid hash.
  absl::Status Load(bool task_storage);
  absl::Status CollectCounts(absl::Time at, WindowAccumulator& acc);
  absl::Status CollectLatency(absl::Time at, WindowAccumulator& acc);
  absl::StatusOr<uint64_t> ReadDrops() const;

  const SyscallsProbeOptions options_;
  std::unique_ptr<syscalls_bpf, SkelDeleter> skel_;
  int num_cpus_ = 0;
  bool task_storage_ = false;
  uint32_t count_cells_per_cpu_ = 0;  // as loaded
  uint32_t latency_cells_per_cpu_ = 0;
  EvictionStats stats_;
  std::optional<PerCpuCounterMap> counts_;
  std::optional<PerCpuCounterMap> latency_;  // when options_.latency
  std::optional<PerCpuCellTable> count_cells_;
  std::optional<PerCpuCellTable> latency_cells_;  // when options_.latency
};

}  // namespace andon::agent
