#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/types.pb.h"
#include "common/forward_rules.h"

namespace andon::aggregator {

// Windows on their way to the parent, reduced as they arrive: each point's
// series loses the labels the forwarding rules drop (by default `host`) and
// merges into the pending window of the reduced series, so a window of N
// hosts becomes one point per remaining label set. Windows starting before
// the cursor have been handed on; a point for one of them is late: it is
// kept apart, counted, and handed on at the next Close() as an amendment
// that merges into the parent's stored window (values are mergeable, so the
// parent ends with the same sums as if it had come in time, never twice).
// At most `max_points` reduced points wait; a point beyond that is dropped
// and counted. Thread-safe.
class WindowReducer {
 public:
  WindowReducer(int64_t cursor_ns, size_t max_points);

  void SetRules(ForwardRules rules) ABSL_LOCKS_EXCLUDED(mu_);
  enum class Added { kOpen, kLate, kDropped };
  // Adds a point already stored here (the same point must not be added
  // twice); `host`: the labels of the host it came from, for rules that keep
  // a host label (ForwardRules::Reduce).
  Added Add(const v1::Point& point, const v1::HostLabels* host = nullptr) ABSL_LOCKS_EXCLUDED(mu_);

  // Takes the windows starting before `cursor_ns` (a cursor at or below the
  // current one takes none) and every late amendment, and moves the cursor
  // there. Points of one window are adjacent; order is otherwise unspecified.
  std::vector<v1::Point> Close(int64_t cursor_ns) ABSL_LOCKS_EXCLUDED(mu_);

  int64_t cursor() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t pending_points() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t late_points() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t dropped_points() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Reduced series (with its window width) -> merged point.
  using Window = absl::flat_hash_map<std::string, v1::Point>;
  bool MergeInto(Window& window, const v1::Point& point, const v1::HostLabels* host)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_points_;
  mutable absl::Mutex mu_;
  ForwardRules rules_ ABSL_GUARDED_BY(mu_);
  int64_t cursor_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, Window> open_ ABSL_GUARDED_BY(mu_);  // by window start
  Window late_ ABSL_GUARDED_BY(mu_);                     // keyed by start too
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t late_points_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_points_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::aggregator
