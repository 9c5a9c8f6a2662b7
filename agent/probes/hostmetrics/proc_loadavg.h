#pragma once

#include <array>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// The 1, 5 and 15 minute load averages of /proc/loadavg.
using LoadAverages = std::array<double, 3>;
inline constexpr std::array<const char*, 3> kLoadPeriods = {"1m", "5m", "15m"};

// Parses "0.52 0.58 0.59 1/467 12345". INVALID_ARGUMENT if malformed.
absl::StatusOr<LoadAverages> ParseProcLoadavg(absl::string_view text);

}  // namespace andon::agent
