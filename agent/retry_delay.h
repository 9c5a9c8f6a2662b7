#pragma once

#include <string>

#include "absl/time/time.h"

namespace andon::agent {

// A backoff delay for log lines: "1.3s", "450ms" (no false precision).
inline std::string RetryDelayText(absl::Duration d) {
  return absl::FormatDuration(
      absl::Trunc(d, d >= absl::Seconds(1) ? absl::Milliseconds(100) : absl::Milliseconds(1)));
}

}  // namespace andon::agent
