#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace andon::agent {

// Eviction counters shared by the maps of one probe; readable from any thread.
struct EvictionStats {
  std::atomic<uint64_t> evicted_keys{0};
  std::atomic<uint64_t> eviction_errors{0};
};

// Turns a BPF per-CPU hash of cumulative __u64 counts (any fixed-size key)
// into exact deltas: each Collect reads every key with batched lookups and
// reports what grew since the previous read. Keys idle for `idle_eviction`
// are deleted from the kernel map so that it does not fill up with processes
// that are gone; their last increments are reported as they go. Eviction is
// housekeeping: when it fails the key stays tracked (its counts stay exact),
// and the failure is logged and counted, never returned.
// Not thread-safe (the collect loop's), except for `stats`.
class PerCpuCounterMap {
 public:
  struct Options {
    std::string name;  // "counts", for logs and errors
    size_t key_size = 0;
    absl::Duration idle_eviction = absl::Seconds(60);
    // Evict with lookup-then-delete from the start, as on kernels before 5.14
    // that cannot lookup-and-delete a per-CPU hash. For tests.
    bool force_eviction_fallback = false;
  };

  // `fd` is the map's; `stats` must outlive this object.
  PerCpuCounterMap(Options options, int fd, int num_cpus, EvictionStats* stats);

  // Calls emit(key bytes, delta > 0) once per key that grew since the
  // previous Collect (at `now`, which also drives eviction).
  absl::Status Collect(absl::Time now,
                       absl::FunctionRef<void(absl::string_view key, uint64_t delta)> emit);

 private:
  struct Tracked {
    uint64_t total = 0;  // cumulative count at the last read
    absl::Time last_change;
  };

  // Sums every key's per-CPU values.
  absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>> ReadAll() const;
  // Evicts one idle key, emitting what it counted since the last read.
  // Returns false if the key is still in the kernel map.
  bool Evict(const std::string& key, const Tracked& tracked,
             absl::FunctionRef<void(absl::string_view, uint64_t)> emit);
  // Deletes a key and returns its final cumulative count (NOT_FOUND if it is
  // gone already), with lookup-and-delete where the kernel has it for per-CPU
  // hashes (5.14+), else lookup then delete.
  absl::StatusOr<uint64_t> TakeAndDelete(const std::string& key);
  absl::StatusOr<uint64_t> LookupThenDelete(const std::string& key) const;

  const Options options_;
  const int fd_;
  const int num_cpus_;
  EvictionStats* const stats_;
  bool eviction_fallback_;
  absl::flat_hash_map<std::string, Tracked> tracked_;
};

}  // namespace andon::agent
