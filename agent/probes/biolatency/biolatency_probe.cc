#include "agent/probes/biolatency/biolatency_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/biolatency/biolatency.h"
#include "agent/probes/biolatency/bucket_distribution.h"
#include "agent/probes/biolatency/program_selection.h"
#include "agent/probes/biolatency/tracefs.h"
#include "agent/window.h"
#include "biolatency.skel.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace andon::agent {
namespace {

// tp_btf needs no tracefs and hands over the request itself; the classic
// tracepoint works on kernels without BTF tracepoints (before 5.5).
constexpr BiolatencyAttachPoint kAttachPoints[] = {
    {"issue_btf", "complete_btf", "tp_btf:block_rq_issue", false},
    {"issue_tp", "complete_tp", "tracepoint:block:block_rq_issue", true},
};

std::vector<BiolatencyAttachPoint> AttachPointsOrDefault(
    const std::vector<BiolatencyAttachPoint>& given) {
  if (!given.empty()) return given;
  return {std::begin(kAttachPoints), std::end(kAttachPoints)};
}

const char* OpName(uint16_t op) {
  switch (op) {
    case BIOLATENCY_OP_READ:
      return "read";
    case BIOLATENCY_OP_WRITE:
      return "write";
    case BIOLATENCY_OP_FLUSH:
      return "flush";
    default:
      return "discard";
  }
}

v1::SeriesKey Series(const char* metric, const std::string& disk, uint16_t op) {
  v1::SeriesKey key;
  key.set_metric(metric);
  v1::Label* l = key.add_labels();
  l->set_name("disk");
  l->set_value(disk);
  l = key.add_labels();
  l->set_name("op");
  l->set_value(OpName(op));
  return key;
}

}  // namespace

void BiolatencyProbe::SkelDeleter::operator()(biolatency_bpf* skel) const {
  biolatency_bpf__destroy(skel);
}

BiolatencyProbe::BiolatencyProbe(BiolatencyProbeOptions options)
    : Probe("biolatency"),
      options_(options),
      attach_points_(AttachPointsOrDefault(options.attach_points)) {}

BiolatencyProbe::~BiolatencyProbe() { Stop(); }

absl::Status BiolatencyProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");
  std::vector<std::string> errors;
  absl::StatusCode last_code = absl::StatusCode::kUnavailable;
  for (const BiolatencyAttachPoint& a : attach_points_) {
    absl::Status s = TryAttachPoint(a);
    if (s.ok()) {
      SetAttachPoint(a.description);
      ANDON_LOG(DEBUG) << "biolatency probe attached to " << a.description;
      reader_.emplace("biolatency counts", bpf_map__fd(skel_->maps.counts), sizeof(biolatency_key),
                      num_cpus_, options_.idle_eviction);
      return absl::OkStatus();
    }
    ANDON_LOG(DEBUG) << "biolatency probe: " << s.message() << "; trying the next attach point";
    last_code = s.code();
    errors.push_back(std::string(s.message()));
  }
  // The last (most widely supported) attach point's error code, so that
  // PERMISSION_DENIED means "not root" rather than "no fentry here".
  return absl::Status(last_code, absl::StrCat("no attach point of the biolatency probe works: ",
                                              absl::StrJoin(errors, "; ")));
}

absl::Status BiolatencyProbe::TryAttachPoint(const BiolatencyAttachPoint& a) {
  links_.clear();
  skel_.reset(biolatency_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the biolatency BPF object");
  int err = bpf_map__set_max_entries(skel_->maps.counts, options_.max_keys);
  if (err) return LibbpfStatus(err, "sizing the counts map");
  const char* const programs[] = {a.issue_program, a.complete_program};
  ANDON_RETURN_IF_ERROR(SelectPrograms(skel_->obj, programs, "biolatency BPF"));
  if (a.needs_tracefs) {
    absl::Status s = EnsureTracefsMounted();
    if (!s.ok()) return absl::UnavailableError(absl::StrCat(a.description, ": ", s.message()));
  }
  err = biolatency_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, absl::StrCat("loading ", a.description));
  ANDON_ASSIGN_OR_RETURN(links_, AttachPrograms(skel_->obj, programs, a.description));
  return absl::OkStatus();
}

void BiolatencyProbe::StopImpl() {
  reader_.reset();
  links_.clear();
  skel_.reset();
}

const std::string& BiolatencyProbe::DiskName(uint32_t dev) {
  auto it = disk_names_.find(dev);
  if (it != disk_names_.end()) return it->second;
  const std::string majmin = absl::StrCat(dev >> 20, ":", dev & ((1u << 20) - 1));
  std::string name = majmin;  // if sysfs does not know it (gone already)
  std::ifstream uevent(absl::StrCat("/sys/dev/block/", majmin, "/uevent"));
  for (std::string line; std::getline(uevent, line);) {
    if (absl::StartsWith(line, "DEVNAME=")) name = line.substr(8);
  }
  return disk_names_.emplace(dev, std::move(name)).first->second;
}

absl::Status BiolatencyProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  ANDON_ASSIGN_OR_RETURN(std::vector<KeyDelta> deltas, reader_->Read(sample_time));
  std::map<std::pair<uint32_t, uint16_t>, BucketCounts> latencies;
  std::map<std::pair<uint32_t, uint16_t>, uint64_t> bytes;
  for (const KeyDelta& d : deltas) {
    biolatency_key k;
    memcpy(&k, d.key.data(), sizeof(k));
    if (k.kind == BIOLATENCY_KIND_BYTES) {
      bytes[{k.dev, k.op}] += d.delta;
    } else {
      latencies[{k.dev, k.op}][static_cast<int32_t>(k.bucket)] += d.delta;
      AddEvents(d.delta);
    }
  }
  for (const auto& [disk_op, buckets] : latencies) {
    ANDON_RETURN_IF_ERROR(
        acc.AddValue(Series("bio_latency_ns", DiskName(disk_op.first), disk_op.second),
                     BucketsToDistribution(buckets), sample_time));
  }
  for (const auto& [disk_op, n] : bytes) {
    acc.AddCounter(Series("bio_bytes", DiskName(disk_op.first), disk_op.second), n, sample_time);
  }
  SetDrops(ReadDrops());
  return absl::OkStatus();
}

uint64_t BiolatencyProbe::ReadDrops() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (__u64 v : values) total += v;
  return total;
}

}  // namespace andon::agent
