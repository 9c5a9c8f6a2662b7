#include "agent/probes/syscalls/percpu_counter_map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace andon::agent {
namespace {

// Keys fetched per batched lookup; large enough that one hash bucket never
// exceeds it (which would make the kernel answer ENOSPC).
constexpr uint32_t kBatchSize = 1024;

// The kernel's internal ENOTSUPP, which it returns to user space as is (it is
// not in <errno.h>): e.g. lookup-and-delete on a per-CPU hash before 5.14.
constexpr int kKernelENOTSUPP = 524;

uint64_t Sum(const std::vector<__u64>& per_cpu) {
  uint64_t total = 0;
  for (__u64 v : per_cpu) total += v;
  return total;
}

}  // namespace

PerCpuCounterMap::PerCpuCounterMap(Options options, int fd, int num_cpus, EvictionStats* stats)
    : options_(std::move(options)),
      fd_(fd),
      num_cpus_(num_cpus),
      stats_(stats),
      eviction_fallback_(options_.force_eviction_fallback) {}

absl::Status PerCpuCounterMap::Collect(
    absl::Time now, absl::FunctionRef<void(absl::string_view key, uint64_t delta)> emit) {
  ANDON_ASSIGN_OR_RETURN(auto counts, ReadAll());
  for (const auto& [key, total] : counts) {
    auto [it, inserted] = tracked_.try_emplace(key, Tracked{0, now});
    Tracked& t = it->second;
    // A total below the last one means the key was deleted and re-created
    // between reads: everything it holds now is new.
    const uint64_t delta = total >= t.total ? total - t.total : total;
    if (delta > 0) {
      emit(key, delta);
      t.last_change = now;
    }
    t.total = total;
  }

  // Evict idle keys. A key that could not be evicted stays tracked, so its
  // deltas stay exact; eviction is retried at the next collection.
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    auto current = it++;
    if (!counts.contains(current->first)) {
      tracked_.erase(current);
      continue;
    }
    if (now - current->second.last_change < options_.idle_eviction) continue;
    if (Evict(current->first, current->second, emit)) tracked_.erase(current);
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::flat_hash_map<std::string, uint64_t>> PerCpuCounterMap::ReadAll() const {
  absl::flat_hash_map<std::string, uint64_t> out;
  std::vector<char> keys(static_cast<size_t>(kBatchSize) * options_.key_size);
  std::vector<__u64> values(static_cast<size_t>(kBatchSize) * num_cpus_);
  __u32 token = 0;
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  while (true) {
    __u32 count = kBatchSize;
    int err = bpf_map_lookup_batch(fd_, first ? nullptr : &token, &token, keys.data(),
                                   values.data(), &count, &opts);
    if (err && err != -ENOENT) {
      return LibbpfStatus(err, absl::StrCat("reading the ", options_.name, " map"));
    }
    for (__u32 i = 0; i < count; ++i) {
      uint64_t total = 0;
      for (int c = 0; c < num_cpus_; ++c) total += values[static_cast<size_t>(i) * num_cpus_ + c];
      out[std::string(&keys[i * options_.key_size], options_.key_size)] = total;
    }
    if (err == -ENOENT) break;  // no more buckets
    first = false;
  }
  return out;
}

bool PerCpuCounterMap::Evict(const std::string& key, const Tracked& tracked,
                             absl::FunctionRef<void(absl::string_view, uint64_t)> emit) {
  absl::StatusOr<uint64_t> final_total = TakeAndDelete(key);
  if (absl::IsNotFound(final_total.status())) return true;  // gone already
  if (!final_total.ok()) {
    // Logged at 1, 2, 4, 8... failures: a key that cannot be evicted is
    // retried every collection and must not flood the log.
    const uint64_t n = stats_->eviction_errors.fetch_add(1, std::memory_order_relaxed) + 1;
    if ((n & (n - 1)) == 0) {
      ANDON_LOG(WARNING) << "cannot evict idle key " << absl::BytesToHexString(key) << " from the "
                         << options_.name << " map: " << final_total.status().message() << " (" << n
                         << " eviction errors so far; the key stays counted)";
    }
    return false;
  }
  // A total below the last read means the key was re-created in between.
  const uint64_t delta =
      *final_total >= tracked.total ? *final_total - tracked.total : *final_total;
  if (delta > 0) emit(key, delta);
  stats_->evicted_keys.fetch_add(1, std::memory_order_relaxed);
  return true;
}

absl::StatusOr<uint64_t> PerCpuCounterMap::TakeAndDelete(const std::string& key) {
  if (!eviction_fallback_) {
    std::vector<__u64> values(num_cpus_);
    int err = bpf_map_lookup_and_delete_elem(fd_, key.data(), values.data());
    if (err == 0) return Sum(values);
    err = std::abs(err);
    if (err != kKernelENOTSUPP && err != EOPNOTSUPP && err != EINVAL) {
      return LibbpfStatus(err, "evicting an idle key");
    }
    ANDON_LOG(INFO) << "this kernel cannot lookup-and-delete a per-CPU hash ("
                    << LibbpfStatus(err, "lookup-and-delete").message() << "); evicting idle "
                    << options_.name << " keys by lookup, then delete";
    eviction_fallback_ = true;
  }
  return LookupThenDelete(key);
}

absl::StatusOr<uint64_t> PerCpuCounterMap::LookupThenDelete(const std::string& key) const {
  std::vector<__u64> values(num_cpus_);
  int err = bpf_map_lookup_elem(fd_, key.data(), values.data());
  if (err) return LibbpfStatus(err, "reading an idle key before deleting it");
  // Counts that arrived since this collection's batched read are in `values`
  // and become the key's final delta. Increments landing between the lookup
  // above and the delete below are lost: a window of microseconds, on a key
  // that has been idle for idle_eviction. (lookup-and-delete has a similar,
  // smaller window: the BPF program may still hold the element it increments.)
  err = bpf_map_delete_elem(fd_, key.data());
  if (err && err != -ENOENT) return LibbpfStatus(err, "deleting an idle key");
  return Sum(values);
}

}  // namespace andon::agent
