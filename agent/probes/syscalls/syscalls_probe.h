#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/probe.h"

struct syscalls_bpf;  // generated skeleton; only syscalls_probe.cc sees it

namespace andon::agent {

struct SyscallsProbeOptions {
  uint32_t ignore_tgid = 0;   // a process whose syscalls are not counted; 0 = none
  uint32_t max_keys = 16384;  // (comm, syscall) pairs the kernel map can hold
  absl::Duration idle_eviction = absl::Seconds(60);  // forget pairs unchanged this long
};

// Counts syscalls per (comm, syscall) in kernel per-CPU maps and emits the
// metric `syscalls` {comm, syscall} with exact per-window deltas: the kernel
// keeps cumulative counts, each Collect reads them all and emits what grew
// since the previous read. Pairs idle for `idle_eviction` are removed from the
// map so it does not fill up with processes that are gone.
// Thread safety: as Probe.
class SyscallsProbe final : public Probe {
 public:
  explicit SyscallsProbe(SyscallsProbeOptions options = {});
  ~SyscallsProbe() override;

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
  // Deletes a key from the kernel map and returns its final cumulative count.
  absl::StatusOr<uint64_t> TakeAndDelete(const Key& key) const;
  void Emit(const Key& key, uint64_t delta, absl::Time at, WindowAccumulator& acc);

  const SyscallsProbeOptions options_;
  std::unique_ptr<syscalls_bpf, SkelDeleter> skel_;
  int num_cpus_ = 0;
  absl::flat_hash_map<Key, Tracked> tracked_;
};

}  // namespace andon::agent
