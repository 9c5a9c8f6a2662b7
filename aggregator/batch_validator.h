#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "andon/v1/ingest.pb.h"
#include "common/clock.h"
#include "common/metric_catalog.h"

namespace andon::aggregator {

// Limits on what one ingest batch may carry.
inline constexpr int kMaxPointsPerBatch = 50000;
// The widest window: every window must divide it (aggregator/storage/resolution.h).
inline constexpr int64_t kMaxWindowNs = int64_t{10} * 1000 * 1000 * 1000;  // 10 s
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(10);

// Checks an ingest batch against the metric catalog before anything of it is
// stored: a batch is accepted or refused whole. A batch may declare metrics
// the catalog does not know yet (generic probes); they count for its own
// points, and Learn() adds them to the catalog once the batch is accepted.
// Thread-safe; the clock and catalog must outlive it.
class BatchValidator {
 public:
  BatchValidator(const Clock* clock, MetricCatalog* catalog) : clock_(clock), catalog_(catalog) {}

  // Adds the batch's declarations to the catalog; returns those that changed
  // it (to be persisted). Call after Validate() accepted the batch.
  std::vector<v1::MetricInfo> Learn(const v1::IngestBatch& batch) const;

  // OK, or INVALID_ARGUMENT naming the sender, sequence, offending point and
  // rule: empty sender_id, sequence 0, more than kMaxPointsPerBatch points,
  // unknown metric, a value kind other than the catalog's, an invalid or
  // undeclared label name, a label value holding a NUL, a window that does
  // not divide 10 s, a window start not aligned to the window, or a window
  // starting more than 10 min in the future.
  absl::Status Validate(const v1::IngestBatch& batch) const;

 private:
  // `metric` is the point's metric as the batch declares it or the catalog
  // knows it (or why it is unknown).
  absl::Status ValidatePoint(const v1::Point& point, int64_t max_start_ns,
                             const absl::StatusOr<v1::MetricInfo>& metric) const;
  // The batch's declarations, checked against the catalog.
  absl::StatusOr<std::vector<v1::MetricInfo>> CheckDeclarations(const v1::IngestBatch& batch) const;

  const Clock* clock_;
  MetricCatalog* catalog_;
};

}  // namespace andon::aggregator
