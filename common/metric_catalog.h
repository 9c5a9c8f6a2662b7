#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/query.pb.h"

namespace andon {

// The metrics Andon knows, with their kinds and labels. Agents emit only
// these; queries for anything else are refused with the list of known names.
const std::vector<v1::MetricInfo>& KnownMetrics();

// The metric's description, or NOT_FOUND naming the known metrics.
absl::StatusOr<v1::MetricInfo> LookupMetric(absl::string_view name);

}  // namespace andon
