#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/storage/series_store.h"
#include "andon/v1/query.pb.h"
#include "common/clock.h"
#include "common/metric_catalog.h"

namespace andon::aggregator {

// How long one query may run, and how it is called off.
struct QueryControl {
  absl::Time deadline = absl::InfiniteFuture();  // by the engine's clock
  // Polled while scanning; true stops the query with CANCELLED.
  std::function<bool()> cancelled;
};

// Answers QueryRequests from a SeriesStore: selects the metric's series by
// the matchers, merges their windows exactly into one group per distinct
// value of the group_by labels and one bucket per step (bucket k starts at
// start + k*step; only buckets holding data are returned), then applies the
// request's function (common/query_fn.h) or, for a typed request, returns
// the merged values (common/query_result.h). Knows nothing of gRPC.
//
// Thread-safe: Run() keeps no state between calls; the store, catalog and
// clock must outlive the engine.
class QueryEngine {
 public:
  // A query reading more than `max_points_scanned` stored windows stops
  // there instead of taking the aggregator's memory and time: its answer
  // holds what was read, flagged partial with a warning saying why.
  static constexpr int64_t kDefaultMaxPointsScanned = 20'000'000;

  QueryEngine(const SeriesStore* store, const MetricCatalog* catalog,
              int64_t max_points_scanned = kDefaultMaxPointsScanned,
              const Clock* clock = RealClock::Get())
      : store_(store), catalog_(catalog), max_points_scanned_(max_points_scanned), clock_(clock) {}

  const MetricCatalog& catalog() const { return *catalog_; }

  // Fails as PlanQuery() (common/query_plan.h) does for a bad request, with
  // the store's error, or with CANCELLED when control.cancelled() says so.
  // Past control.deadline, or at the scan limit, it answers with what it read
  // so far, flagged partial, with a warning.
  absl::StatusOr<v1::QueryResponse> Run(const v1::QueryRequest& request,
                                        const QueryControl& control = {}) const;

 private:
  const SeriesStore* store_;
  const MetricCatalog* catalog_;
  int64_t max_points_scanned_;
  const Clock* clock_;
};

}  // namespace andon::aggregator
