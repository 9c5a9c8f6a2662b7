#include "agent/probes/syscalls/syscalls_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/syscalls/bucket_distribution.h"
#include "agent/probes/syscalls/syscalls.h"
#include "agent/syscall_names.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "syscalls.skel.h"

namespace andon::agent {
namespace {

std::string CommOf(const char* comm) { return std::string(comm, strnlen(comm, SYSCALLS_COMM_LEN)); }

v1::SeriesKey Series(const char* metric, const std::string& comm, uint32_t nr) {
  v1::SeriesKey series;
  series.set_metric(metric);
  v1::Label* c = series.add_labels();
  c->set_name("comm");
  c->set_value(comm);
  v1::Label* s = series.add_labels();
  s->set_name("syscall");
  s->set_value(std::string(SyscallName(nr)));
  return series;
}

// The most memory one cell table may take over all CPUs, in the kernel (and
// twice that in the agent, which keeps the last read to diff against): on a
// machine with many CPUs the tables get fewer cells each, and more keys take
// the hashes. With 2 CPUs the defaults fit: 256 KiB and 1 MiB.
constexpr uint64_t kMaxCellTableBytes = 2 << 20;

// Cells per CPU: `wanted` rounded down to a power of two that fits
// kMaxCellTableBytes on `num_cpus`; 0 stays 0.
uint32_t CellsPerCpu(uint32_t wanted, int num_cpus) {
  const uint64_t fit =
      kMaxCellTableBytes / (sizeof(syscalls_cell) * static_cast<uint64_t>(num_cpus));
  uint64_t cells = std::min<uint64_t>(wanted, fit);
  if (cells < 2) return 0;
  return static_cast<uint32_t>(std::bit_floor(cells));
}

// The comm of a cell's two words.
std::string CommOf(const syscalls_cell& cell) {
  char comm[SYSCALLS_COMM_LEN];
  memcpy(comm, &cell.comm_lo, 8);
  memcpy(comm + 8, &cell.comm_hi, 8);
  return CommOf(comm);
}

// A map that is not used is shrunk to one entry, so it costs nothing.
absl::Status Shrink(bpf_map* map, const char* what) {
  int err = bpf_map__set_max_entries(map, 1);
  return err ? LibbpfStatus(err, what) : absl::OkStatus();
}

}  // namespace

void SyscallsProbe::SkelDeleter::operator()(syscalls_bpf* skel) const {
  syscalls_bpf__destroy(skel);
}

SyscallsProbe::SyscallsProbe(SyscallsProbeOptions options) : Probe("syscalls"), options_(options) {}

SyscallsProbe::~SyscallsProbe() { Stop(); }

absl::Status SyscallsProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");

  // Newer kernels give raw tracepoints the task's BTF: the comm is read
  // straight from the task, and entry times go to task-local storage (no
  // lock, freed with the task). Older ones get the helper and a tid hash.
  const bool try_task_btf = !options_.force_start_hash;
  absl::Status s = Load(try_task_btf);
  if (!s.ok() && try_task_btf && !absl::IsPermissionDenied(s)) {
    ANDON_LOG(INFO) << "syscalls probe: raw tracepoints cannot use the task's BTF or task storage "
                       "here ("
                    << s.message()
                    << "); reading the comm with a helper and keeping entry times in a hash "
                       "by thread id instead";
    s = Load(false);
  }
  ANDON_RETURN_IF_ERROR(s);

  counts_.emplace(PerCpuCounterMap::Options{"counts", sizeof(syscalls_key), options_.idle_eviction,
                                            options_.force_eviction_fallback},
                  bpf_map__fd(skel_->maps.counts), num_cpus_, &stats_);
  count_cells_.emplace(
      PerCpuCellTable::Options{"count_cells", count_cells_per_cpu_, options_.idle_eviction},
      bpf_map__fd(skel_->maps.count_cells), num_cpus_, &stats_);
  if (options_.latency) {
    latency_cells_.emplace(
        PerCpuCellTable::Options{"latency_cells", latency_cells_per_cpu_, options_.idle_eviction},
        bpf_map__fd(skel_->maps.latency_cells), num_cpus_, &stats_);
    latency_.emplace(
        PerCpuCounterMap::Options{"latency", sizeof(syscalls_latency_key), options_.idle_eviction,
                                  options_.force_eviction_fallback},
        bpf_map__fd(skel_->maps.latency), num_cpus_, &stats_);
    SetAttachPoint("raw_tracepoint:sys_enter,raw_tracepoint:sys_exit");
  } else {
    SetAttachPoint("raw_tracepoint:sys_enter");
  }
  return absl::OkStatus();
}

absl::Status SyscallsProbe::Load(bool task_storage) {
  skel_.reset(syscalls_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the BPF object");
  task_storage_ = task_storage;
  skel_->rodata->ignore_tgid = options_.ignore_tgid;
  skel_->rodata->measure_latency = options_.latency;
  skel_->rodata->use_task_storage = task_storage;
  int err = bpf_map__set_max_entries(skel_->maps.counts, options_.max_keys);
  if (err) return LibbpfStatus(err, "sizing the counts map");
  count_cells_per_cpu_ = CellsPerCpu(options_.count_cells, num_cpus_);
  latency_cells_per_cpu_ = options_.latency ? CellsPerCpu(options_.latency_cells, num_cpus_) : 0;
  skel_->rodata->count_cells_bits =
      count_cells_per_cpu_ ? std::countr_zero(count_cells_per_cpu_) : 0;
  skel_->rodata->latency_cells_bits =
      latency_cells_per_cpu_ ? std::countr_zero(latency_cells_per_cpu_) : 0;
  err = bpf_map__set_max_entries(skel_->maps.count_cells, std::max(count_cells_per_cpu_, 1u));
  if (!err) {
    err = bpf_map__set_max_entries(skel_->maps.latency_cells, std::max(latency_cells_per_cpu_, 1u));
  }
  if (err) return LibbpfStatus(err, "sizing the cell tables");

  if (options_.latency) {
    err = bpf_map__set_max_entries(skel_->maps.latency, options_.max_latency_keys);
    if (err) return LibbpfStatus(err, "sizing the latency map");
  } else {
    // Not even loaded: the cost stays one program at sys_enter.
    bpf_program__set_autoload(skel_->progs.record_sys_exit, false);
    ANDON_RETURN_IF_ERROR(Shrink(skel_->maps.latency, "shrinking the unused latency map"));
  }
  if (task_storage) {
    ANDON_RETURN_IF_ERROR(Shrink(skel_->maps.start_hash, "shrinking the unused start_hash map"));
  } else {
    if (options_.latency) {
      err = bpf_map__set_max_entries(skel_->maps.start_hash, options_.max_threads);
      if (err) return LibbpfStatus(err, "sizing the start_hash map");
    } else {
      ANDON_RETURN_IF_ERROR(Shrink(skel_->maps.start_hash, "shrinking the unused start_hash map"));
    }
    // Kernels without task storage could not create the map; the program's
    // task-storage branch is dead code under use_task_storage = 0.
    err = bpf_map__set_type(skel_->maps.start_task, BPF_MAP_TYPE_HASH);
    if (!err) err = bpf_map__set_map_flags(skel_->maps.start_task, 0);
    if (err) return LibbpfStatus(err, "turning the unused start_task map into a hash");
    ANDON_RETURN_IF_ERROR(Shrink(skel_->maps.start_task, "shrinking the unused start_task map"));
  }

  err = syscalls_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, "loading into the kernel");
  err = syscalls_bpf__attach(skel_.get());
  if (err) {
    return LibbpfStatus(err, options_.latency ? "attaching raw_tracepoint/sys_enter and sys_exit"
                                              : "attaching raw_tracepoint/sys_enter");
  }
  return absl::OkStatus();
}

void SyscallsProbe::StopImpl() {
  counts_.reset();
  latency_.reset();
  count_cells_.reset();
  latency_cells_.reset();
  skel_.reset();
}

absl::Status SyscallsProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  ANDON_RETURN_IF_ERROR(CollectCounts(sample_time, acc));
  if (latency_) ANDON_RETURN_IF_ERROR(CollectLatency(sample_time, acc));
  ANDON_ASSIGN_OR_RETURN(uint64_t drops, ReadDrops());
  SetDrops(drops);
  return absl::OkStatus();
}

absl::Status SyscallsProbe::CollectCounts(absl::Time at, WindowAccumulator& acc) {
  // Deltas summed per (comm, syscall) over the cells of every CPU and the hash.
  absl::flat_hash_map<std::pair<std::string, uint32_t>, uint64_t> grown;
  ANDON_RETURN_IF_ERROR(count_cells_->Collect(at, [&](const syscalls_cell& cell, uint64_t delta) {
    grown[{CommOf(cell), cell.nr}] += delta;
  }));
  ANDON_RETURN_IF_ERROR(counts_->Collect(at, [&](absl::string_view bytes, uint64_t delta) {
    syscalls_key k;
    memcpy(&k, bytes.data(), sizeof(k));
    grown[{CommOf(k.comm), k.nr}] += delta;
  }));
  for (const auto& [comm_nr, delta] : grown) {
    acc.AddCounter(Series("syscalls", comm_nr.first, comm_nr.second), delta, at);
    AddEvents(delta);
  }
  return absl::OkStatus();
}

absl::Status SyscallsProbe::CollectLatency(absl::Time at, WindowAccumulator& acc) {
  // Bucket deltas grouped into one distribution per (comm, syscall).
  absl::flat_hash_map<std::pair<std::string, uint32_t>, std::map<int, uint64_t>> grown;
  ANDON_RETURN_IF_ERROR(latency_cells_->Collect(at, [&](const syscalls_cell& cell, uint64_t delta) {
    grown[{CommOf(cell), cell.nr}][static_cast<int>(cell.bucket)] += delta;
  }));
  ANDON_RETURN_IF_ERROR(latency_->Collect(at, [&](absl::string_view bytes, uint64_t delta) {
    syscalls_latency_key k;
    memcpy(&k, bytes.data(), sizeof(k));
    grown[{CommOf(k.comm), k.nr}][static_cast<int>(k.bucket)] += delta;
  }));
  for (const auto& [comm_nr, buckets] : grown) {
    v1::Value value;
    *value.mutable_distribution() = DistributionFromBuckets(buckets);
    ANDON_RETURN_IF_ERROR(
        acc.AddValue(Series("syscall_latency_ns", comm_nr.first, comm_nr.second), value, at));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> SyscallsProbe::ReadDrops() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  int err = bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data());
  if (err) return LibbpfStatus(err, "reading the drops map");
  uint64_t total = 0;
  for (__u64 v : values) total += v;
  return total;
}

}  // namespace andon::agent
