#pragma once

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace andon {

// Exponential backoff with full jitter, for reconnect loops: each delay is
// uniform in [initial/2, cap_i] where cap_i doubles up to `max`. Not
// thread-safe; one per loop.
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max)
      : initial_(initial), max_(max), cap_(initial) {}

  absl::Duration Next();
  void Reset() { cap_ = initial_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  absl::Duration cap_;
  absl::BitGen gen_;
};

}  // namespace andon
