#include "agent/probes/generic/generic_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/generic/generic.h"
#include "agent/window.h"
#include "common/probe_spec.h"
#include "common/status_macros.h"

namespace andon::agent {

// What one label set gathered in one Collect.
struct GenericProbe::Series {
  generic_key key = {};
  uint64_t value = 0;                   // hits (COUNT) or the value's sum
  std::map<int32_t, uint64_t> buckets;  // DISTRIBUTION only
  uint64_t weight() const {
    uint64_t n = 0;
    for (const auto& [index, c] : buckets) n += c;
    return buckets.empty() ? value : n;
  }
};

void GenericProbe::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

absl::StatusOr<std::unique_ptr<GenericProbe>> GenericProbe::Create(std::string key,
                                                                   const v1::GenericProbe& spec,
                                                                   const v1::ProbeBudget& budget,
                                                                   GenericProbeOptions options) {
  ANDON_RETURN_IF_ERROR(PlanGenericProbe(spec, nullptr).status());
  if (budget.events_per_second() != 0) options.events_per_second = budget.events_per_second();
  if (budget.series_per_window() != 0) options.series_per_window = budget.series_per_window();
  return std::unique_ptr<GenericProbe>(new GenericProbe(std::move(key), spec, options));
}

GenericProbe::GenericProbe(std::string key, v1::GenericProbe spec, GenericProbeOptions options)
    : Probe(std::move(key)),
      spec_(std::move(spec)),
      options_(options),
      metric_(GenericProbeMetric(spec_)),
      budget_(options.series_per_window) {}

GenericProbe::~GenericProbe() { Stop(); }

absl::Status GenericProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");
  switch (spec_.type()) {
    case v1::GenericProbe::TRACEPOINT:
      return LoadTracepoint();
    case v1::GenericProbe::UPROBE:
    case v1::GenericProbe::URETPROBE:
      return LoadUprobe();
    case v1::GenericProbe::USDT:
      return LoadUsdt();
    default:
      return absl::InvalidArgumentError("generic probe without a type");
  }
}

void GenericProbe::StopImpl() {
  links_.clear();  // detach before the programs go
  counts_.reset();
  hist_.reset();
  object_.reset();
  stats_fd_ = -1;
}

absl::Status GenericProbe::StartReaders(bpf_map* counts, bpf_map* hist, bpf_map* stats) {
  counts_ = std::make_unique<CumulativeMapReader>(
      "counts", bpf_map__fd(counts), sizeof(generic_key), num_cpus_, options_.idle_eviction);
  if (plan_.kernel.value_mode == GENERIC_DIST) {
    hist_ = std::make_unique<CumulativeMapReader>(
        "hist", bpf_map__fd(hist), sizeof(generic_hist_key), num_cpus_, options_.idle_eviction);
  }
  stats_fd_ = bpf_map__fd(stats);
  return absl::OkStatus();
}

absl::Status GenericProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  absl::flat_hash_map<std::string, Series> by_key;  // raw generic_key bytes
  ANDON_ASSIGN_OR_RETURN(std::vector<KeyDelta> counts, counts_->Read(sample_time));
  for (const KeyDelta& d : counts) {
    Series& s = by_key[d.key];
    memcpy(&s.key, d.key.data(), sizeof(s.key));
    s.value += d.delta;
  }
  if (hist_) {
    ANDON_ASSIGN_OR_RETURN(std::vector<KeyDelta> buckets, hist_->Read(sample_time));
    for (const KeyDelta& d : buckets) {
      generic_hist_key hk;
      memcpy(&hk, d.key.data(), sizeof(hk));
      Series& s = by_key[d.key.substr(0, sizeof(generic_key))];
      s.key = hk.key;
      s.buckets[static_cast<int32_t>(hk.bucket)] += d.delta;
    }
  }

  // Heaviest first, so the series budget keeps the label sets that matter.
  std::vector<const Series*> order;
  order.reserve(by_key.size());
  for (const auto& [raw, s] : by_key) order.push_back(&s);
  std::sort(order.begin(), order.end(),
            [](const Series* a, const Series* b) { return a->weight() > b->weight(); });
  const absl::Time window = acc.WindowStart(sample_time);
  Series other;
  bool any_other = false;
  for (const Series* s : order) {
    std::vector<std::string> values;
    for (size_t i = 0; i < plan_.labels.size(); ++i) {
      values.push_back(SlotValue(s->key, static_cast<int>(i), plan_.slots[i]));
    }
    if (budget_.Admit(window, absl::StrJoin(values, "\x1f"))) {
      Emit(*s, values, sample_time, acc);
      continue;
    }
    any_other = true;
    other.value += s->value;
    for (const auto& [index, n] : s->buckets) other.buckets[index] += n;
  }
  if (any_other) {
    Emit(other, std::vector<std::string>(plan_.labels.size(), kOtherLabelValue), sample_time, acc);
  }
  return ReadStats();
}

void GenericProbe::Emit(const Series& series, const std::vector<std::string>& values, absl::Time at,
                        WindowAccumulator& acc) {
  v1::SeriesKey key;
  key.set_metric(spec_.metric());
  for (size_t i = 0; i < plan_.labels.size(); ++i) {
    v1::Label* label = key.add_labels();
    label->set_name(plan_.labels[i]);
    label->set_value(values[i]);
  }
  if (plan_.kernel.value_mode != GENERIC_DIST) {
    acc.AddCounter(key, series.value, at);
    return;
  }
  if (series.buckets.empty()) return;
  // Cannot fail: this probe adds only distributions to its metric.
  (void)acc.AddValue(key, ToDistribution(series.buckets, static_cast<double>(series.value)), at);
}

absl::Status GenericProbe::ReadStats() {
  uint64_t totals[GENERIC_STATS] = {};
  std::vector<__u64> per_cpu(num_cpus_);
  for (__u32 slot = 0; slot < GENERIC_STATS; ++slot) {
    int err = bpf_map_lookup_elem(stats_fd_, &slot, per_cpu.data());
    if (err) return LibbpfStatus(err, "reading the stats map");
    for (__u64 v : per_cpu) totals[slot] += v;
  }
  if (totals[GENERIC_STAT_HITS] > hits_) AddEvents(totals[GENERIC_STAT_HITS] - hits_);
  hits_ = totals[GENERIC_STAT_HITS];
  SetDrops(totals[GENERIC_STAT_FULL] + totals[GENERIC_STAT_MISSED]);
  const uint64_t sampled = totals[GENERIC_STAT_SAMPLED];
  if (sampled == sampled_ && budget_.folded() == folded_) return absl::OkStatus();
  sampled_ = sampled;
  folded_ = budget_.folded();
  std::vector<std::string> why;
  if (folded_ > 0) {
    why.push_back(absl::StrCat("series budget of ", budget_.limit(), " per window: ", folded_,
                               " label sets folded into \"", kOtherLabelValue, "\""));
  }
  if (sampled_ > 0) {
    why.push_back(absl::StrCat("event budget of ", options_.events_per_second, "/s: ", sampled_,
                               " events skipped"));
  }
  SetBudgetActions(folded_, sampled_, absl::StrJoin(why, "; "));
  return absl::OkStatus();
}

}  // namespace andon::agent
