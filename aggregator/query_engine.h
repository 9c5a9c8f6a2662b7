#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "aggregator/series_store.h"
#include "andon/v1/query.pb.h"
#include "common/metric_catalog.h"

namespace andon::aggregator {

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
  // A query reading more than `max_points_scanned` stored windows fails with
  // RESOURCE_EXHAUSTED instead of taking the aggregator's memory and time.
  static constexpr int64_t kDefaultMaxPointsScanned = 20'000'000;

  QueryEngine(const SeriesStore* store, const MetricCatalog* catalog,
              int64_t max_points_scanned = kDefaultMaxPointsScanned)
      : store_(store), catalog_(catalog), max_points_scanned_(max_points_scanned) {}

  const MetricCatalog& catalog() const { return *catalog_; }

  // Fails as PlanQuery() (common/query_plan.h) does for a bad request, or
  // with the store's error.
  absl::StatusOr<v1::QueryResponse> Run(const v1::QueryRequest& request) const;

 private:
  const SeriesStore* store_;
  const MetricCatalog* catalog_;
  int64_t max_points_scanned_;
};

// A point's value as one number: a counter's count, a gauge's sum, a
// distribution's or top-k's number of events.
double ScalarValue(const v1::Value& value);

}  // namespace andon::aggregator
