#include "agent/probes/biolatency/cumulative_map_reader.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace andon::agent {
namespace {

// Keys fetched per batched lookup; large enough that one hash bucket never
// exceeds it (which would make the kernel answer ENOSPC).
constexpr uint32_t kBatchSize = 1024;
// The kernel's internal ENOTSUPP (not in <errno.h>).
constexpr int kKernelENOTSUPP = 524;

}  // namespace

CumulativeMapReader::CumulativeMapReader(std::string name, int map_fd, size_t key_size,
                                         int num_cpus, absl::Duration idle_eviction)
    : name_(std::move(name)),
      fd_(map_fd),
      key_size_(key_size),
      num_cpus_(num_cpus),
      idle_eviction_(idle_eviction) {}

uint64_t CumulativeMapReader::Sum(const std::vector<uint64_t>& per_cpu) const {
  uint64_t total = 0;
  for (uint64_t v : per_cpu) total += v;
  return total;
}

absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>> CumulativeMapReader::ReadAll() const {
  absl::flat_hash_map<std::string, uint64_t> out;
  std::vector<char> keys(key_size_ * kBatchSize);
  std::vector<uint64_t> values(static_cast<size_t>(kBatchSize) * num_cpus_);
  __u32 token = 0;
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  while (true) {
    __u32 count = kBatchSize;
    int err = bpf_map_lookup_batch(fd_, first ? nullptr : &token, &token, keys.data(),
                                   values.data(), &count, &opts);
    if (err && err != -ENOENT) return LibbpfStatus(err, absl::StrCat("reading map ", name_));
    for (__u32 i = 0; i < count; ++i) {
      uint64_t total = 0;
      for (int c = 0; c < num_cpus_; ++c) total += values[static_cast<size_t>(i) * num_cpus_ + c];
      out[std::string(&keys[i * key_size_], key_size_)] += total;
    }
    if (err == -ENOENT) break;  // no more buckets
    first = false;
  }
  return out;
}

absl::StatusOr<std::vector<KeyDelta>> CumulativeMapReader::Read(absl::Time now) {
  ANDON_ASSIGN_OR_RETURN(auto totals, ReadAll());
  std::vector<KeyDelta> out;
  for (const auto& [key, total] : totals) {
    auto [it, inserted] = tracked_.try_emplace(key, Tracked{0, now});
    Tracked& t = it->second;
    // Below the last sum: the key was deleted and re-created in between, so
    // everything it holds is new.
    const uint64_t delta = total >= t.total ? total - t.total : total;
    if (delta > 0) {
      out.push_back({key, delta});
      t.last_change = now;
    }
    t.total = total;
  }
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    auto current = it++;
    if (!totals.contains(current->first)) {  // deleted behind our back
      tracked_.erase(current);
      continue;
    }
    if (now - current->second.last_change < idle_eviction_) continue;
    absl::StatusOr<uint64_t> final_total = TakeAndDelete(current->first);
    if (!final_total.ok() && !absl::IsNotFound(final_total.status())) {
      // Logged at 1, 2, 4, ... failures: retried every read, must not flood.
      const uint64_t n = eviction_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
      if ((n & (n - 1)) == 0) {
        ANDON_LOG(WARNING) << "cannot evict an idle key of map " << name_ << ": "
                           << final_total.status().message() << " (" << n
                           << " eviction errors so far; the key stays counted)";
      }
      continue;
    }
    if (final_total.ok() && *final_total > current->second.total) {
      out.push_back({current->first, *final_total - current->second.total});
    }
    evicted_keys_.fetch_add(1, std::memory_order_relaxed);
    tracked_.erase(current);
  }
  return out;
}

absl::StatusOr<uint64_t> CumulativeMapReader::TakeAndDelete(const std::string& key) {
  std::vector<uint64_t> values(num_cpus_);
  if (!lookup_and_delete_unsupported_) {
    int err = bpf_map_lookup_and_delete_elem(fd_, key.data(), values.data());
    if (err == 0) return Sum(values);
    err = std::abs(err);
    if (err == ENOENT) return absl::NotFoundError("gone already");
    if (err != kKernelENOTSUPP && err != EOPNOTSUPP && err != EINVAL) {
      return LibbpfStatus(err, "evicting an idle key");
    }
    ANDON_LOG(INFO) << "this kernel cannot lookup-and-delete a per-CPU hash; evicting idle keys of "
                    << name_ << " by lookup, then delete";
    lookup_and_delete_unsupported_ = true;
  }
  int err = bpf_map_lookup_elem(fd_, key.data(), values.data());
  if (err == -ENOENT) return absl::NotFoundError("gone already");
  if (err) return LibbpfStatus(err, "reading an idle key before deleting it");
  // Increments between this lookup and the delete are lost: microseconds, on
  // a key idle for idle_eviction.
  err = bpf_map_delete_elem(fd_, key.data());
  if (err && err != -ENOENT) return LibbpfStatus(err, "deleting an idle key");
  return Sum(values);
}

}  // namespace andon::agent
