#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "andon/v1/ingest.pb.h"
#include "common/clock.h"

namespace andon::aggregator {

// Limits on what one ingest batch may carry.
inline constexpr int kMaxPointsPerBatch = 50000;
inline constexpr int64_t kMaxWindowNs = int64_t{3600} * 1000 * 1000 * 1000;  // 1 h
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(10);

// Checks an ingest batch against the metric catalog before anything of it is
// stored: a batch is accepted or refused whole. Thread-safe (stateless apart
// from the injected clock, which must outlive it).
class BatchValidator {
 public:
  explicit BatchValidator(const Clock* clock) : clock_(clock) {}

  // OK, or INVALID_ARGUMENT naming the sender, sequence, offending point and
  // rule: empty sender_id, sequence 0, more than kMaxPointsPerBatch points,
  // unknown metric, a value kind other than the catalog's, an invalid or
  // undeclared label name, a window not in (0, 1h], a window start not
  // aligned to the window, or a window starting more than 10 min in the
  // future.
  absl::Status Validate(const v1::IngestBatch& batch) const;

 private:
  absl::Status ValidatePoint(const v1::Point& point, int64_t max_start_ns) const;

  const Clock* clock_;
};

}  // namespace andon::aggregator
