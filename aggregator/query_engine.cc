#include "aggregator/query_engine.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/query_plan.h"
#include "common/series_key.h"
#include "common/status_macros.h"

namespace andon::aggregator {
namespace {

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
  ANDON_ASSIGN_OR_RETURN(QueryPlan plan, PlanQuery(request, *catalog_));
  const v1::MetricInfo& metric = plan.metric;

  absl::flat_hash_map<std::string, Group> groups;
  int64_t points_scanned = 0;
  for (const SeriesRef& ref : store_->SeriesOfMetric(metric.name())) {
    if (!MatchesAll(plan.matchers, ref.key)) continue;
    std::vector<std::string> values;
    for (const std::string& name : plan.group_by) values.emplace_back(LabelValue(ref.key, name));
    Group* group = nullptr;  // created on the series' first point in range
    bool over_budget = false;
    ANDON_RETURN_IF_ERROR(store_->ScanPoints(
        ref.id, plan.start_ns, plan.end_ns, [&](int64_t window_start_ns, const v1::Value& value) {
          if (++points_scanned > max_points_scanned_) {
            over_budget = true;
            return false;
          }
          if (group == nullptr) {
            group = &groups[absl::StrJoin(values, std::string(1, '\0'))];
            group->label_values = values;
          }
          const double v = ScalarValue(value);
          group->buckets[(window_start_ns - plan.start_ns) / plan.step_ns] += v;
          group->total += v;
          return true;
        }));
    if (over_budget) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "query would read more than ", max_points_scanned_,
          " stored windows; narrow it with matchers (e.g. host=...) or a shorter range"));
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
