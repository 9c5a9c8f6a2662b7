#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace andon::agent {

// What one key of a cumulative map grew by since the previous read.
struct KeyDelta {
  std::string key;  // the raw kernel key bytes
  uint64_t delta = 0;
};

// Turns a BPF per-CPU hash of cumulative __u64 counters (keyed by any
// fixed-size, padding-free C struct) into exact per-read deltas, and evicts
// keys that stopped growing so the map never fills with series that are gone.
// The kernel side only ever adds; this class remembers each key's last sum.
// Eviction takes a key's final value with lookup-and-delete (lookup, then
// delete, on kernels before 5.14), so nothing it counted is lost; an eviction
// that fails leaves the key tracked and is retried at the next read.
//
// Shared by the biolatency, runqlat and tcp probes. Not thread-safe; the
// counters may be read from any thread.
class CumulativeMapReader {
 public:
  // `map_fd` must outlive the reader; `name` names the map in errors.
  CumulativeMapReader(std::string name, int map_fd, size_t key_size, int num_cpus,
                      absl::Duration idle_eviction);

  // Every key that grew since the previous call (or was evicted, with what it
  // added before its removal), with how much. Fails only if the map cannot be
  // read at all.
  absl::StatusOr<std::vector<KeyDelta>> Read(absl::Time now);

  size_t tracked_keys() const { return tracked_.size(); }
  uint64_t evicted_keys() const { return evicted_keys_.load(std::memory_order_relaxed); }
  uint64_t eviction_errors() const { return eviction_errors_.load(std::memory_order_relaxed); }

 private:
  struct Tracked {
    uint64_t total = 0;  // sum over CPUs at the last read
    absl::Time last_change;
  };

  absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>> ReadAll() const;
  // Removes `key` from the kernel map and returns its final sum.
  absl::StatusOr<uint64_t> TakeAndDelete(const std::string& key);
  uint64_t Sum(const std::vector<uint64_t>& per_cpu) const;

  const std::string name_;
  const int fd_;
  const size_t key_size_;
  const int num_cpus_;
  const absl::Duration idle_eviction_;
  bool lookup_and_delete_unsupported_ = false;
  absl::flat_hash_map<std::string, Tracked> tracked_;
  std::atomic<uint64_t> evicted_keys_{0};
  std::atomic<uint64_t> eviction_errors_{0};
};

}  // namespace andon::agent
