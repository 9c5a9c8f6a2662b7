#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "andon/v1/query.pb.h"

namespace andon::controller {

// The checks every Andon query server applies, done by the controller before
// forwarding so a bad query gets the same clear error with no aggregator up:
// NOT_FOUND for an unknown metric (naming the known ones); INVALID_ARGUMENT
// for missing start/end, end <= start, a range over 31 days, a negative step
// or more than 11000 buckets, a bad regex, or an invalid group_by label name.
// Returns the metric's catalog entry.
absl::StatusOr<v1::MetricInfo> ValidateQuery(const v1::QueryRequest& request);

}  // namespace andon::controller
