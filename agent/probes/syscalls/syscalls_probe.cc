#include "agent/probes/syscalls/syscalls_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/syscalls/syscalls.h"
#include "agent/syscall_names.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "syscalls.skel.h"

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

std::string Describe(const std::pair<std::string, uint32_t>& key) {
  return absl::StrCat("(", key.first, ", ", SyscallName(key.second), ")");
}

std::string CommOf(const syscalls_key& key) {
  return std::string(key.comm, strnlen(key.comm, sizeof(key.comm)));
}

syscalls_key ToKernelKey(const std::pair<std::string, uint32_t>& key) {
  syscalls_key k = {};
  memcpy(k.comm, key.first.data(), std::min(key.first.size(), sizeof(k.comm)));
  k.nr = key.second;
  return k;
}

}  // namespace

void SyscallsProbe::SkelDeleter::operator()(syscalls_bpf* skel) const {
  syscalls_bpf__destroy(skel);
}

SyscallsProbe::SyscallsProbe(SyscallsProbeOptions options)
    : Probe("syscalls"), options_(options), eviction_fallback_(options.force_eviction_fallback) {}

SyscallsProbe::~SyscallsProbe() { Stop(); }

absl::Status SyscallsProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");

  skel_.reset(syscalls_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the BPF object");
  skel_->rodata->ignore_tgid = options_.ignore_tgid;
  int err = bpf_map__set_max_entries(skel_->maps.counts, options_.max_keys);
  if (err) return LibbpfStatus(err, "sizing the counts map");

  err = syscalls_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, "loading into the kernel");
  err = syscalls_bpf__attach(skel_.get());
  if (err) return LibbpfStatus(err, "attaching raw_tracepoint/sys_enter");
  return absl::OkStatus();
}

void SyscallsProbe::StopImpl() {
  skel_.reset();
  tracked_.clear();
}

absl::Status SyscallsProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  ANDON_ASSIGN_OR_RETURN(auto counts, ReadCounts());

  for (const auto& [key, total] : counts) {
    auto [it, inserted] = tracked_.try_emplace(key, Tracked{0, sample_time});
    Tracked& t = it->second;
    // A total below the last one means the key was deleted and re-created
    // between reads: everything it holds now is new.
    uint64_t delta = total >= t.total ? total - t.total : total;
    if (delta > 0) {
      Emit(key, delta, sample_time, acc);
      t.last_change = sample_time;
    }
    t.total = total;
  }

  // Evict idle pairs. A pair that could not be evicted stays tracked, so its
  // deltas stay exact; eviction is retried at the next collection.
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    auto current = it++;
    if (!counts.contains(current->first)) {
      tracked_.erase(current);
      continue;
    }
    if (sample_time - current->second.last_change < options_.idle_eviction) continue;
    if (Evict(current->first, current->second, sample_time, acc)) tracked_.erase(current);
  }

  ANDON_ASSIGN_OR_RETURN(uint64_t drops, ReadDrops());
  SetDrops(drops);
  return absl::OkStatus();
}

void SyscallsProbe::Emit(const Key& key, uint64_t delta, absl::Time at, WindowAccumulator& acc) {
  v1::SeriesKey series;
  series.set_metric("syscalls");
  v1::Label* comm = series.add_labels();
  comm->set_name("comm");
  comm->set_value(key.first);
  v1::Label* syscall = series.add_labels();
  syscall->set_name("syscall");
  syscall->set_value(std::string(SyscallName(key.second)));
  acc.AddCounter(series, delta, at);
  AddEvents(delta);
}

absl::StatusOr<absl::flat_hash_map<SyscallsProbe::Key, uint64_t>> SyscallsProbe::ReadCounts()
    const {
  absl::flat_hash_map<Key, uint64_t> out;
  const int fd = bpf_map__fd(skel_->maps.counts);
  std::vector<syscalls_key> keys(kBatchSize);
  std::vector<__u64> values(static_cast<size_t>(kBatchSize) * num_cpus_);
  __u32 token = 0;
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  while (true) {
    __u32 count = kBatchSize;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, keys.data(), values.data(),
                                   &count, &opts);
    if (err && err != -ENOENT) return LibbpfStatus(err, "reading the counts map");
    for (__u32 i = 0; i < count; ++i) {
      uint64_t total = 0;
      for (int c = 0; c < num_cpus_; ++c) total += values[static_cast<size_t>(i) * num_cpus_ + c];
      out[Key(CommOf(keys[i]), keys[i].nr)] += total;
    }
    if (err == -ENOENT) break;  // no more buckets
    first = false;
  }
  return out;
}

absl::StatusOr<uint64_t> SyscallsProbe::ReadDrops() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  int err = bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data());
  if (err) return LibbpfStatus(err, "reading the drops map");
  return Sum(values);
}

bool SyscallsProbe::Evict(const Key& key, Tracked& tracked, absl::Time at, WindowAccumulator& acc) {
  absl::StatusOr<uint64_t> final_total = TakeAndDelete(key);
  if (absl::IsNotFound(final_total.status())) return true;  // gone already
  if (!final_total.ok()) {
    // Logged at 1, 2, 4, 8... failures: a key that cannot be evicted is
    // retried every collection and must not flood the log.
    const uint64_t n = eviction_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
    if ((n & (n - 1)) == 0) {
      ANDON_LOG(WARNING) << "syscalls probe: cannot evict idle key " << Describe(key) << ": "
                         << final_total.status().message() << " (" << n
                         << " eviction errors so far; the key stays counted)";
    }
    return false;
  }
  // A total below the last read means the key was re-created in between.
  const uint64_t delta =
      *final_total >= tracked.total ? *final_total - tracked.total : *final_total;
  if (delta > 0) Emit(key, delta, at, acc);
  evicted_keys_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

absl::StatusOr<uint64_t> SyscallsProbe::TakeAndDelete(const Key& key) {
  const syscalls_key k = ToKernelKey(key);
  if (!eviction_fallback_) {
    std::vector<__u64> values(num_cpus_);
    int err = bpf_map_lookup_and_delete_elem(bpf_map__fd(skel_->maps.counts), &k, values.data());
    if (err == 0) return Sum(values);
    err = std::abs(err);
    if (err != kKernelENOTSUPP && err != EOPNOTSUPP && err != EINVAL) {
      return LibbpfStatus(err, "evicting an idle key");
    }
    ANDON_LOG(INFO) << "syscalls probe: this kernel cannot lookup-and-delete a per-CPU hash ("
                    << LibbpfStatus(err, "lookup-and-delete").message()
                    << "); evicting idle keys by lookup, then delete";
    eviction_fallback_ = true;
  }
  return LookupThenDelete(k);
}

absl::StatusOr<uint64_t> SyscallsProbe::LookupThenDelete(const syscalls_key& key) const {
  const int fd = bpf_map__fd(skel_->maps.counts);
  std::vector<__u64> values(num_cpus_);
  int err = bpf_map_lookup_elem(fd, &key, values.data());
  if (err) return LibbpfStatus(err, "reading an idle key before deleting it");
  // Counts that arrived since this collection's batched read are in `values`
  // and become the key's final delta. Increments landing between the lookup
  // above and the delete below are lost: a window of microseconds, on a key
  // that has been idle for idle_eviction. (lookup-and-delete has a similar,
  // smaller window: the BPF program may still hold the element it increments.)
  err = bpf_map_delete_elem(fd, &key);
  if (err && err != -ENOENT) return LibbpfStatus(err, "deleting an idle key");
  return Sum(values);
}

}  // namespace andon::agent
