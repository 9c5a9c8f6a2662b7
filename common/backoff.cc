#include "common/backoff.h"

#include <algorithm>

namespace andon {

absl::Duration Backoff::Next() {
  absl::Duration lo = initial_ / 2;
  absl::Duration d = lo + (cap_ - lo) * absl::Uniform(gen_, 0.0, 1.0);
  cap_ = std::min(cap_ * 2, max_);
  return d;
}

}  // namespace andon
