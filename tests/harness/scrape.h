#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace andon::testing {

// The value of an unlabelled sample `name` on a daemon's Prometheus
// endpoint (http://ADDRESS/metrics). NOT_FOUND when it is not exported;
// UNAVAILABLE when the endpoint does not answer.
absl::StatusOr<double> ScrapeMetric(const std::string& http_address, const std::string& name);

}  // namespace andon::testing
