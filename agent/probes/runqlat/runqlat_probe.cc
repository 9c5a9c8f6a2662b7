#include "agent/probes/runqlat/runqlat_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/biolatency/bucket_distribution.h"
#include "agent/probes/runqlat/runqlat.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "runqlat.skel.h"

namespace andon::agent {
namespace {

// tp_btf passes typed arguments; raw tracepoints work where BTF tracepoints
// do not (before 5.5). Both need no tracefs.
constexpr RunqlatAttachPoint kAttachPoints[] = {
    {"wakeup_btf", "wakeup_new_btf", "switch_btf", "tp_btf:sched_wakeup"},
    {"wakeup_raw", "wakeup_new_raw", "switch_raw", "raw_tracepoint:sched_wakeup"},
};

std::vector<RunqlatAttachPoint> AttachPointsOrDefault(
    const std::vector<RunqlatAttachPoint>& given) {
  if (!given.empty()) return given;
  return {std::begin(kAttachPoints), std::end(kAttachPoints)};
}

struct CommSamples {
  BucketCounts buckets;
  uint64_t samples = 0;
};

}  // namespace

void RunqlatProbe::SkelDeleter::operator()(runqlat_bpf* skel) const { runqlat_bpf__destroy(skel); }

RunqlatProbe::RunqlatProbe(RunqlatProbeOptions options)
    : Probe("runqlat"),
      options_(options),
      attach_points_(AttachPointsOrDefault(options.attach_points)) {}

RunqlatProbe::~RunqlatProbe() { Stop(); }

absl::Status RunqlatProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");
  std::vector<std::string> errors;
  absl::StatusCode last_code = absl::StatusCode::kUnavailable;
  for (const RunqlatAttachPoint& a : attach_points_) {
    absl::Status s = TryAttachPoint(a);
    if (s.ok()) {
      SetAttachPoint(a.description);
      ANDON_LOG(DEBUG) << "runqlat probe attached to " << a.description;
      reader_.emplace("runqlat counts", bpf_map__fd(skel_->maps.counts), sizeof(runqlat_key),
                      num_cpus_, options_.idle_eviction);
      return absl::OkStatus();
    }
    ANDON_LOG(DEBUG) << "runqlat probe: " << s.message() << "; trying the next attach point";
    last_code = s.code();
    errors.push_back(std::string(s.message()));
  }
  // The last (most widely supported) attach point's error code, so that
  // PERMISSION_DENIED means "not root" rather than "no fentry here".
  return absl::Status(last_code, absl::StrCat("no attach point of the runqlat probe works: ",
                                              absl::StrJoin(errors, "; ")));
}

absl::Status RunqlatProbe::TryAttachPoint(const RunqlatAttachPoint& a) {
  links_.clear();
  skel_.reset(runqlat_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the runqlat BPF object");
  int err = bpf_map__set_max_entries(skel_->maps.counts, options_.max_keys);
  if (err) return LibbpfStatus(err, "sizing the counts map");
  const char* const programs[] = {a.wakeup_program, a.wakeup_new_program, a.switch_program};
  ANDON_RETURN_IF_ERROR(SelectPrograms(skel_->obj, programs, "runqlat BPF"));
  err = runqlat_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, absl::StrCat("loading ", a.description));
  ANDON_ASSIGN_OR_RETURN(links_, AttachPrograms(skel_->obj, programs, a.description));
  return absl::OkStatus();
}

void RunqlatProbe::StopImpl() {
  reader_.reset();
  links_.clear();
  skel_.reset();
}

absl::Status RunqlatProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  ANDON_ASSIGN_OR_RETURN(std::vector<KeyDelta> deltas, reader_->Read(sample_time));
  absl::flat_hash_map<std::string, CommSamples> by_comm;
  BucketCounts host;
  uint64_t samples = 0;
  for (const KeyDelta& d : deltas) {
    runqlat_key k;
    memcpy(&k, d.key.data(), sizeof(k));
    CommSamples& c = by_comm[std::string(k.comm, strnlen(k.comm, sizeof(k.comm)))];
    c.buckets[static_cast<int32_t>(k.bucket)] += d.delta;
    c.samples += d.delta;
    host[static_cast<int32_t>(k.bucket)] += d.delta;
    samples += d.delta;
  }
  if (samples == 0) {
    SetDrops(ReadDrops());
    return absl::OkStatus();
  }
  AddEvents(samples);

  v1::SeriesKey host_key;
  host_key.set_metric("runq_latency_ns");
  ANDON_RETURN_IF_ERROR(acc.AddValue(host_key, BucketsToDistribution(host), sample_time));

  // The top processes by samples (ties by name, so the choice is stable).
  std::vector<std::pair<uint64_t, const std::string*>> ranked;
  ranked.reserve(by_comm.size());
  for (const auto& [comm, c] : by_comm) ranked.emplace_back(c.samples, &comm);
  const size_t keep = std::min<size_t>(options_.top_comms, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : *a.second < *b.second;
                    });
  for (size_t i = 0; i < keep; ++i) {
    v1::SeriesKey key = host_key;
    v1::Label* l = key.add_labels();
    l->set_name("comm");
    l->set_value(*ranked[i].second);
    ANDON_RETURN_IF_ERROR(
        acc.AddValue(key, BucketsToDistribution(by_comm[*ranked[i].second].buckets), sample_time));
  }
  if (ranked.size() > keep) {
    folded_ += ranked.size() - keep;
    SetBudgetActions(folded_, 0,
                     absl::StrCat("processes beyond the top ", options_.top_comms,
                                  " by samples are counted only in the host series"));
  }
  SetDrops(ReadDrops());
  return absl::OkStatus();
}

uint64_t RunqlatProbe::ReadDrops() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (__u64 v : values) total += v;
  return total;
}

}  // namespace andon::agent
