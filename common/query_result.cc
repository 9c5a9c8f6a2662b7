#include "common/query_result.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/value/distribution.h"
#include "common/value/top_k.h"
#include "common/value_merge.h"

namespace andon {
namespace {

// Heatmap cells: 4 per power of two (each at most 19 % wide), readable on a
// screen and exact (coarse cells never split a stored bucket).
constexpr uint32_t kHeatmapSubBucketBits = 2;
constexpr double kNanosPerSecond = 1e9;

double Events(const v1::Value& value) {
  QueryFn count;
  count.kind = QueryFnKind::kCount;
  return ApplyQueryFn(count, value, 1).value_or(0);
}

std::string JoinValues(const std::vector<std::string>& values) {
  return absl::StrJoin(values, std::string(1, '\0'));
}

}  // namespace

QueryReducer::Group& QueryReducer::GroupOf(const std::vector<std::string>& label_values) {
  Group& group = groups_[JoinValues(label_values)];
  if (group.label_values.empty()) group.label_values = label_values;
  return group;
}

absl::Status QueryReducer::Merge(Group& group, int64_t bucket, const v1::Value& value) {
  // Checked on the total first: a value that does not merge changes nothing.
  ANDON_RETURN_IF_ERROR(MergeValue(value, group.total));
  return MergeValue(value, group.buckets[bucket]);
}

absl::Status QueryReducer::Add(const std::vector<std::string>& label_values,
                               int64_t window_start_ns, const v1::Value& value) {
  const int64_t bucket = (window_start_ns - plan_->start_ns) / plan_->step_ns;
  return Merge(GroupOf(label_values), bucket, value);
}

absl::Status QueryReducer::AddTyped(const v1::QueryResponse& typed) {
  const int64_t buckets = (plan_->end_ns - plan_->start_ns + plan_->step_ns - 1) / plan_->step_ns;
  for (const v1::Series& series : typed.series()) {
    std::vector<std::string> values(plan_->group_by.size());
    for (const v1::Label& label : series.labels()) {
      for (size_t i = 0; i < plan_->group_by.size(); ++i) {
        if (plan_->group_by[i] == label.name()) values[i] = label.value();
      }
    }
    Group& group = GroupOf(values);
    for (const v1::SamplePoint& point : series.points()) {
      // time_ms is the bucket's start rounded down to a ms, and steps are at
      // least 1 ms: rounding the offset up gives the bucket back.
      const int64_t offset = point.time_ms() * 1000 * 1000 - plan_->start_ns;
      const int64_t bucket = offset <= 0 ? 0 : (offset + plan_->step_ns - 1) / plan_->step_ns;
      if (offset <= -plan_->step_ns || bucket >= buckets) {
        return absl::InvalidArgumentError(absl::StrCat("typed answer has a point at ",
                                                       point.time_ms(), " ms, outside the query"));
      }
      ANDON_RETURN_IF_ERROR(MergeValue(point.typed(), group.buckets[bucket]));
    }
    ANDON_RETURN_IF_ERROR(MergeValue(series.total_value(), group.total));
  }
  return absl::OkStatus();
}

int64_t QueryReducer::BucketTimeMs(int64_t bucket) const {
  return (plan_->start_ns + bucket * plan_->step_ns) / (1000 * 1000);
}

double QueryReducer::BucketSeconds() const {
  return static_cast<double>(plan_->step_ns) / kNanosPerSecond;
}

double QueryReducer::RangeSeconds() const {
  return static_cast<double>(plan_->end_ns - plan_->start_ns) / kNanosPerSecond;
}

std::vector<const QueryReducer::Group*> QueryReducer::Ranked(
    const std::vector<double>& score) const {
  std::vector<std::pair<double, const Group*>> order;
  order.reserve(groups_.size());
  size_t i = 0;
  for (const auto& [key, group] : groups_) order.emplace_back(score[i++], &group);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second->label_values < b.second->label_values;  // deterministic among equals
  });
  std::vector<const Group*> out;
  out.reserve(order.size());
  for (const auto& [s, g] : order) out.push_back(g);
  return out;
}

v1::QueryResponse QueryReducer::Header() const {
  v1::QueryResponse response;
  response.set_metric(plan_->metric.name());
  response.set_kind(plan_->metric.kind());
  response.set_fn(plan_->fn.Name());
  response.set_unit(QueryFnUnit(plan_->fn, plan_->metric));
  return response;
}

void QueryReducer::AddLabels(const Group& group, v1::Series& series) const {
  for (size_t i = 0; i < plan_->group_by.size(); ++i) {
    v1::Label* label = series.add_labels();
    label->set_name(plan_->group_by[i]);
    label->set_value(group.label_values[i]);
  }
}

v1::QueryResponse QueryReducer::Typed() const {
  std::vector<double> score;
  score.reserve(groups_.size());
  for (const auto& [key, group] : groups_) score.push_back(Events(group.total));
  std::vector<const Group*> order = Ranked(score);
  v1::QueryResponse response = Header();
  const size_t kept = std::min<size_t>(order.size(), plan_->limit);
  for (size_t i = 0; i < kept; ++i) {
    const Group& group = *order[i];
    v1::Series* series = response.add_series();
    AddLabels(group, *series);
    for (const auto& [bucket, value] : group.buckets) {
      v1::SamplePoint* point = series->add_points();
      point->set_time_ms(BucketTimeMs(bucket));
      point->set_value(Events(value));
      *point->mutable_typed() = value;
    }
    series->set_total(Events(group.total));
    *series->mutable_total_value() = group.total;
  }
  response.set_series_truncated(static_cast<uint32_t>(order.size() - kept));
  return response;
}

v1::QueryResponse QueryReducer::Finish() const {
  if (plan_->fn.kind == QueryFnKind::kTopK && plan_->metric.kind() == v1::TOP_K) {
    return FinishTopKeys();
  }
  const QueryFn& fn = plan_->fn;
  std::vector<double> score;
  score.reserve(groups_.size());
  for (const auto& [key, group] : groups_) {
    score.push_back(ApplyQueryFn(fn, group.total, RangeSeconds())
                        .value_or(-std::numeric_limits<double>::infinity()));
  }
  std::vector<const Group*> order = Ranked(score);
  v1::QueryResponse response = Header();
  const size_t kept = std::min<size_t>(order.size(), plan_->limit);
  for (size_t i = 0; i < kept; ++i) {
    const Group& group = *order[i];
    v1::Series* series = response.add_series();
    AddLabels(group, *series);
    for (const auto& [bucket, value] : group.buckets) {
      std::optional<double> v = ApplyQueryFn(fn, value, BucketSeconds());
      if (!v.has_value()) continue;
      v1::SamplePoint* point = series->add_points();
      point->set_time_ms(BucketTimeMs(bucket));
      point->set_value(*v);
      if (fn.kind == QueryFnKind::kHeatmap) {
        for (const auto& [lower, count] :
             DistributionCoarseBuckets(value.distribution(), kHeatmapSubBucketBits)) {
          v1::HeatmapCell* cell = point->add_cells();
          cell->set_lower(lower);
          cell->set_upper(LogLinearBucketMax(LogLinearBucket(lower, kHeatmapSubBucketBits),
                                             kHeatmapSubBucketBits));
          cell->set_count(count);
        }
      }
    }
    series->set_total(ApplyQueryFn(fn, group.total, RangeSeconds()).value_or(0));
  }
  response.set_series_truncated(static_cast<uint32_t>(order.size() - kept));
  return response;
}

// topk(K) on a top-k metric: the K heaviest (group, key) pairs over the
// range. A pair not listed is bounded by its group's unlisted bound, or by
// the count of the last pair listed when the cut dropped it.
v1::QueryResponse QueryReducer::FinishTopKeys() const {
  struct Candidate {
    const Group* group;
    v1::TopK::Entry entry;
  };
  std::vector<Candidate> candidates;
  uint64_t unlisted_bound = 0;
  for (const auto& [key, group] : groups_) {
    const v1::TopK& t = group.total.top_k();
    unlisted_bound = std::max(unlisted_bound, t.unlisted_bound());
    std::vector<v1::TopK::Entry> top = TopKEntries(t, plan_->fn.k + size_t{1});
    if (top.size() > plan_->fn.k) {
      // The group's entries past its own K are never shown.
      unlisted_bound = std::max(unlisted_bound, top.back().count());
      top.pop_back();
    }
    for (v1::TopK::Entry& e : top) candidates.push_back({&group, std::move(e)});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.entry.count() != b.entry.count()) return a.entry.count() > b.entry.count();
    if (a.group->label_values != b.group->label_values) {
      return a.group->label_values < b.group->label_values;
    }
    return a.entry.key() < b.entry.key();
  });
  const size_t kept = std::min<size_t>(candidates.size(), plan_->fn.k);
  if (kept < candidates.size()) {
    unlisted_bound = std::max(unlisted_bound, candidates[kept].entry.count());
  }
  v1::QueryResponse response = Header();
  for (size_t i = 0; i < kept; ++i) {
    const Candidate& c = candidates[i];
    v1::Series* series = response.add_series();
    AddLabels(*c.group, *series);
    v1::Label* label = series->add_labels();
    label->set_name("key");
    label->set_value(c.entry.key());
    for (const auto& [bucket, value] : c.group->buckets) {
      for (const v1::TopK::Entry& e : value.top_k().entries()) {
        if (e.key() != c.entry.key()) continue;
        v1::SamplePoint* point = series->add_points();
        point->set_time_ms(BucketTimeMs(bucket));
        point->set_value(static_cast<double>(e.count()));
        break;
      }
    }
    series->set_total(static_cast<double>(c.entry.count()));
    series->set_error(c.entry.error());
  }
  response.set_series_truncated(static_cast<uint32_t>(candidates.size() - kept));
  response.set_unlisted_bound(unlisted_bound);
  return response;
}

}  // namespace andon
