#pragma once

// Query functions: what the number of each point of a query answer is.
// Every server that answers a query (aggregators, and the controller after
// merging their typed answers) applies the same function to the same merged
// values, so a fanned-out answer equals the answer of one server holding all
// the data.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/types.pb.h"

namespace andon {

enum class QueryFnKind {
  kCount,     // events (counter, distribution, top-k) or samples (gauge)
  kSum,       // counter: events; gauge: sum of samples; distribution: sum of values
  kRate,      // events per second of the bucket
  kAvg,       // gauge: mean sample; distribution: mean value
  kMin,       // gauge or distribution
  kMax,       // gauge or distribution
  kLast,      // gauge: the latest sample
  kQuantile,  // distribution: quantile `q`
  kHeatmap,   // distribution: each point's histogram (cells), value = events
  kTopK,      // the `k` largest groups by the kind's default; top-k metric: the k heaviest keys
};

struct QueryFn {
  QueryFnKind kind = QueryFnKind::kCount;
  double q = 0;    // kQuantile, in [0, 1]
  uint32_t k = 0;  // kTopK, >= 1

  // Normalized text: "count", "quantile(0.99)", "topk(10)".
  std::string Name() const;
};

// The largest k of topk(k).
inline constexpr uint32_t kMaxTopK = 10000;

// Parses `text` ("" = the default of the metric's kind: avg for gauges,
// count otherwise) and checks that it applies to `metric`'s kind. Fails with
// INVALID_ARGUMENT naming the function and what it applies to, e.g.
// "quantile(0.99) applies to distributions; syscalls is a counter (use
// count, rate or topk(K))".
absl::StatusOr<QueryFn> ParseQueryFn(absl::string_view text, const v1::MetricInfo& metric);

// `fn` applied to one merged value covering `seconds` (> 0) of time; nullopt
// when it has no number (an empty gauge or distribution for avg, min, max,
// last or quantile). kTopK and kHeatmap give the kind's default (count, or
// avg for gauges): the number the groups are ranked by.
std::optional<double> ApplyQueryFn(const QueryFn& fn, const v1::Value& value, double seconds);

// The unit of the numbers `fn` gives for `metric`: "1/s" for rates ("bytes/s"
// for a counter of bytes), "" for counts of events (a counter's own unit),
// the metric's unit for sums, averages, extremes and quantiles, and for the
// cells' bounds of a heatmap.
std::string QueryFnUnit(const QueryFn& fn, const v1::MetricInfo& metric);

}  // namespace andon
