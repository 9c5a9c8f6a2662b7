#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "andon/v1/query.pb.h"
#include "common/label_matcher.h"
#include "common/metric_catalog.h"
#include "common/query_fn.h"

namespace andon {

// Limits on one query, the same at every server that answers it.
inline constexpr int64_t kMaxQueryRangeNs = int64_t{31} * 24 * 3600 * 1000 * 1000 * 1000;
inline constexpr int64_t kMaxQueryBuckets = 11000;
inline constexpr int64_t kDefaultStepNs = 1000 * 1000 * 1000;  // 1 s
inline constexpr uint32_t kDefaultSeriesLimit = 1000;

// The checked, defaulted form of a QueryRequest.
struct QueryPlan {
  v1::MetricInfo metric;
  int64_t start_ns = 0;
  int64_t end_ns = 0;   // exclusive
  int64_t step_ns = 0;  // bucket k starts at start_ns + k * step_ns
  uint32_t limit = 0;
  std::vector<std::string> group_by;  // without duplicates, in request order
  std::vector<LabelMatcher> matchers;
  QueryFn fn;
  bool typed = false;  // answer with merged values for a caller that merges (QueryRequest.typed)
};

// Checks a request and fills in defaults. Both the controller (before it
// forwards) and the aggregators (before they read) call this, so a bad query
// gets the same error wherever it lands. Fails with NOT_FOUND for an unknown
// metric (naming the known ones) and INVALID_ARGUMENT for a missing start or
// end, end <= start, a range over 31 days, a negative step or one below 1 ms,
// an unknown function or one that does not apply to the metric, more than 11000
// buckets (naming the smallest step that fits), a bad matcher or regex, or
// an invalid group_by label name.
absl::StatusOr<QueryPlan> PlanQuery(const v1::QueryRequest& request, const MetricCatalog& catalog);

}  // namespace andon
