#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "aggregator/series_store.h"
#include "andon/v1/query.pb.h"

namespace andon::aggregator {

// Limits on one query.
inline constexpr int64_t kMaxQueryRangeNs = int64_t{31} * 24 * 3600 * 1000 * 1000 * 1000;
inline constexpr int64_t kMaxQueryBuckets = 11000;
inline constexpr int64_t kDefaultStepNs = 1000 * 1000 * 1000;  // 1 s
inline constexpr uint32_t kDefaultSeriesLimit = 1000;

// Answers QueryRequests from a SeriesStore: selects the metric's series by
// the matchers, sums them into one Series per distinct value of the group_by
// labels, buckets points by step (bucket k starts at start + k*step; only
// buckets holding data are returned), and returns the groups by total,
// largest first, up to the limit. Knows nothing of gRPC.
//
// Thread-safe: Run() keeps no state between calls; the store must outlive
// the engine.
class QueryEngine {
 public:
  explicit QueryEngine(const SeriesStore* store) : store_(store) {}

  // Fails with INVALID_ARGUMENT (missing start or end, end <= start, range
  // over 31 days, negative step, more than 11000 buckets, bad matcher or
  // regex, invalid group_by label name), NOT_FOUND for an unknown metric
  // (naming the known ones), or the store's error.
  absl::StatusOr<v1::QueryResponse> Run(const v1::QueryRequest& request) const;

 private:
  const SeriesStore* store_;
};

// A point's value as one number: a counter's count, a gauge's sum, a
// distribution's or top-k's number of events.
double ScalarValue(const v1::Value& value);

}  // namespace andon::aggregator
