#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace andon::bench {

// Backfills the OpenMetrics file `input` into Prometheus blocks under
// `out_dir` with `promtool tsdb create-blocks-from openmetrics` (its stdout
// discarded). Returns the CPU seconds promtool used; UNAVAILABLE when it
// cannot run, INTERNAL when it fails.
absl::StatusOr<double> BackfillWithPromtool(const std::string& promtool, const std::string& input,
                                            const std::string& out_dir);

}  // namespace andon::bench
