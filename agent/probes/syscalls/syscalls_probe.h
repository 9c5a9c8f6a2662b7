#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/probe.h"

struct syscalls_bpf;  // generated skeleton; only syscalls_probe.cc sees it
struct syscalls_key;  // syscalls.h

namespace andon::agent {

struct SyscallsProbeOptions {
  uint32_t ignore_tgid = 0;   // a process whose syscalls are not counted; 0 = none
  uint32_t max_keys = 16384;  // (comm, syscall) pairs the kernel map can hold
  absl::Duration idle_eviction = absl::Seconds(60);  // forget pairs unchanged this long
  // Evict with lookup-then-delete from the start, as on kernels before 5.14
  // that cannot lookup-and-delete a per-CPU hash. For tests.
  bool force_eviction_fallback = false;
};

// Counts syscalls per (comm, syscall) in kernel per-CPU maps and emits the
// metric `syscalls` {comm, syscall} with exact per-window deltas: the kernel
// keeps cumulative counts, each Collect reads them all and emits what grew
// since the previous read. Pairs idle for `idle_eviction` are removed from the
// map so it does not fill up with processes that are gone. Eviction is
// housekeeping: when it fails the key stays tracked (its counts stay exact)
// and the failure is logged and counted, never fatal to the probe.
// Thread safety: as Probe; the eviction counters may be read from any thread.
class SyscallsProbe final : public Probe {
 public:
  explicit SyscallsProbe(SyscallsProbeOptions options = {});
  ~SyscallsProbe() override;

  // Keys removed from the kernel map as idle, and evictions that failed.
  uint64_t evicted_keys() const { return evicted_keys_.load(std::memory_order_relaxed); }
  uint64_t eviction_errors() const { return eviction_errors_.load(std::memory_order_relaxed); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  using Key = std::pair<std::string, uint32_t>;  // comm, syscall number
  struct Tracked {
    uint64_t total = 0;  // cumulative count at the last read
    absl::Time last_change;
  };
  struct SkelDeleter {
    void operator()(syscalls_bpf* skel) const;
  };

  // Sums every key's per-CPU values with batched lookups.
  absl::StatusOr<absl::flat_hash_map<Key, uint64_t>> ReadCounts() const;
  absl::StatusOr<uint64_t> ReadDrops() const;
  // Deletes a key from the kernel map and returns its final cumulative count
  // (NOT_FOUND if it is gone already). Uses lookup-and-delete where the
  // kernel has it for per-CPU hashes (5.14+), else lookup then delete.
  absl::StatusOr<uint64_t> TakeAndDelete(const Key& key);
  absl::StatusOr<uint64_t> LookupThenDelete(const syscalls_key& key) const;
  // Evicts one idle key, emitting what it counted since the last read.
  // Returns false if the key is still in the kernel map.
  bool Evict(const Key& key, Tracked& tracked, absl::Time at, WindowAccumulator& acc);
  void Emit(const Key& key, uint64_t delta, absl::Time at, WindowAccumulator& acc);

  const SyscallsProbeOptions options_;
  std::unique_ptr<syscalls_bpf, SkelDeleter> skel_;
  int num_cpus_ = 0;
  absl::flat_hash_map<Key, Tracked> tracked_;
  bool eviction_fallback_;  // lookup-and-delete is not supported here
  std::atomic<uint64_t> evicted_keys_{0};
  std::atomic<uint64_t> eviction_errors_{0};
};

}  // namespace andon::agent
