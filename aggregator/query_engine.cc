#include "aggregator/query_engine.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "aggregator/label_matcher.h"
#include "common/labels.h"
#include "common/metric_catalog.h"
#include "common/series_key.h"
#include "common/status_macros.h"

namespace andon::aggregator {
namespace {

constexpr int64_t kNanosPerSecond = 1000 * 1000 * 1000;
// Keeps seconds * 1e9 inside int64 (until year 2255).
constexpr int64_t kMaxSeconds = 9'000'000'000;

// The checked, defaulted form of a request's range and shape.
struct QueryPlan {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step_ns = 0;
  uint32_t limit = 0;
  std::vector<std::string> group_by;
  std::vector<LabelMatcher> matchers;
};

absl::StatusOr<int64_t> TimestampNanos(const google::protobuf::Timestamp& t,
                                       absl::string_view what) {
  if (t.seconds() < 0 || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() >= kNanosPerSecond) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a valid timestamp"));
  }
  return t.seconds() * kNanosPerSecond + t.nanos();
}

absl::StatusOr<int64_t> StepNanos(const google::protobuf::Duration& step) {
  if (step.seconds() < 0 || step.nanos() < 0) {
    return absl::InvalidArgumentError("step must not be negative");
  }
  if (step.seconds() > kMaxSeconds) return kMaxQueryRangeNs;  // One bucket anyway.
  const int64_t ns = step.seconds() * kNanosPerSecond + step.nanos();
  return ns == 0 ? kDefaultStepNs : ns;
}

absl::Status CheckRange(QueryPlan& plan, const v1::QueryRequest& request) {
  if (!request.has_start() || !request.has_end()) {
    return absl::InvalidArgumentError("query needs both start and end");
  }
  ANDON_ASSIGN_OR_RETURN(plan.start_ns, TimestampNanos(request.start(), "start"));
  ANDON_ASSIGN_OR_RETURN(plan.end_ns, TimestampNanos(request.end(), "end"));
  if (plan.end_ns <= plan.start_ns) {
    return absl::InvalidArgumentError("end must be after start");
  }
  const int64_t range = plan.end_ns - plan.start_ns;
  if (range > kMaxQueryRangeNs) {
    return absl::InvalidArgumentError(absl::StrCat("range of ",
                                                   absl::FormatDuration(absl::Nanoseconds(range)),
                                                   " is longer than the limit of 31 days"));
  }
  ANDON_ASSIGN_OR_RETURN(plan.step_ns, StepNanos(request.step()));
  const int64_t buckets = (range + plan.step_ns - 1) / plan.step_ns;
  if (buckets > kMaxQueryBuckets) {
    const int64_t min_step_s =
        (range + kMaxQueryBuckets * kNanosPerSecond - 1) / (kMaxQueryBuckets * kNanosPerSecond);
    return absl::InvalidArgumentError(
        absl::StrCat("step ", absl::FormatDuration(absl::Nanoseconds(plan.step_ns)), " gives ",
                     buckets, " buckets, more than the limit of ", kMaxQueryBuckets,
                     "; use a step of at least ", min_step_s, "s"));
  }
  return absl::OkStatus();
}

absl::StatusOr<QueryPlan> MakePlan(const v1::QueryRequest& request) {
  QueryPlan plan;
  ANDON_RETURN_IF_ERROR(CheckRange(plan, request));
  for (const std::string& name : request.group_by()) {
    if (!IsValidLabelName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by label name '", name, "' is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)"));
    }
    if (std::find(plan.group_by.begin(), plan.group_by.end(), name) == plan.group_by.end()) {
      plan.group_by.push_back(name);
    }
  }
  for (const v1::LabelMatcher& spec : request.matchers()) {
    ANDON_ASSIGN_OR_RETURN(LabelMatcher matcher, LabelMatcher::Compile(spec));
    plan.matchers.push_back(std::move(matcher));
  }
  plan.limit = request.limit() == 0 ? kDefaultSeriesLimit : request.limit();
  return plan;
}

// Sums of one group: bucket index -> value.
struct Group {
  std::vector<std::string> label_values;
  std::map<int64_t, double> buckets;
  double total = 0;
};

bool MatchesAll(const std::vector<LabelMatcher>& matchers, const v1::SeriesKey& key) {
  for (const LabelMatcher& m : matchers) {
    if (!m.Matches(key)) return false;
  }
  return true;
}

v1::Series ToSeries(const Group& group, const QueryPlan& plan) {
  v1::Series series;
  for (size_t i = 0; i < plan.group_by.size(); ++i) {
    v1::Label* label = series.add_labels();
    label->set_name(plan.group_by[i]);
    label->set_value(group.label_values[i]);
  }
  for (const auto& [bucket, value] : group.buckets) {
    v1::SamplePoint* point = series.add_points();
    point->set_time_ms((plan.start_ns + bucket * plan.step_ns) / (1000 * 1000));
    point->set_value(value);
  }
  series.set_total(group.total);
  return series;
}

}  // namespace

double ScalarValue(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kCounter:
      return static_cast<double>(value.counter());
    case v1::Value::kGauge:
      return value.gauge().sum();
    case v1::Value::kDistribution:
      return static_cast<double>(value.distribution().count());
    case v1::Value::kTopK: {
      double sum = 0;
      for (const auto& e : value.top_k().entries()) sum += static_cast<double>(e.count());
      return sum;
    }
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return 0;
}

absl::StatusOr<v1::QueryResponse> QueryEngine::Run(const v1::QueryRequest& request) const {
  ANDON_ASSIGN_OR_RETURN(QueryPlan plan, MakePlan(request));
  ANDON_ASSIGN_OR_RETURN(v1::MetricInfo metric, LookupMetric(request.metric()));

  absl::flat_hash_map<std::string, Group> groups;
  for (const SeriesRef& ref : store_->SeriesOfMetric(metric.name())) {
    if (!MatchesAll(plan.matchers, ref.key)) continue;
    ANDON_ASSIGN_OR_RETURN(std::vector<StoredPoint> points,
                           store_->ReadPoints(ref.id, plan.start_ns, plan.end_ns));
    if (points.empty()) continue;
    std::vector<std::string> values;
    for (const std::string& name : plan.group_by) values.emplace_back(LabelValue(ref.key, name));
    Group& group = groups[absl::StrJoin(values, std::string(1, '\0'))];
    group.label_values = std::move(values);
    for (const StoredPoint& point : points) {
      const double v = ScalarValue(point.value);
      group.buckets[(point.window_start_ns - plan.start_ns) / plan.step_ns] += v;
      group.total += v;
    }
  }

  std::vector<const Group*> order;
  order.reserve(groups.size());
  for (const auto& [key, group] : groups) order.push_back(&group);
  std::sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    if (a->total != b->total) return a->total > b->total;
    return a->label_values < b->label_values;  // Deterministic among equals.
  });

  v1::QueryResponse response;
  response.set_metric(metric.name());
  response.set_kind(metric.kind());
  const size_t kept = std::min<size_t>(order.size(), plan.limit);
  for (size_t i = 0; i < kept; ++i) *response.add_series() = ToSeries(*order[i], plan);
  response.set_series_truncated(static_cast<uint32_t>(order.size() - kept));
  return response;
}

}  // namespace andon::aggregator
