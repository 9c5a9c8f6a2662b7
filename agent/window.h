#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "andon/v1/types.pb.h"

namespace andon::agent {

// Merges values (counters, gauges, distributions, top-k) into fixed windows aligned to the wall
// clock (a window of 1 s starts at a whole unix second), and turns finished windows into Points.
// Every series gets `common_labels` (e.g. host) added, so probes need not know
// which host they run on.
//
// Not thread-safe: owned by the collect loop.
class WindowAccumulator {
 public:
  WindowAccumulator(absl::Duration window, std::vector<v1::Label> common_labels);

  // Adds `count` to `key` (metric + labels; any label order) in the window
  // containing `at`. Zero counts are ignored. An add into a window that was
  // already flushed opens it again; its next flush emits a second point for
  // the same window, which consumers merge by summing (counters are mergeable).
  void AddCounter(const v1::SeriesKey& key, uint64_t count, absl::Time at);
  // Records one sample of a level (gauge: min, max, sum, count, last).
  void AddGauge(const v1::SeriesKey& key, double value, absl::Time at);
  // Merges `value` (any kind: a distribution, a top-k) into the window. A
  // value of another kind than the series already holds in that window is
  // refused with INVALID_ARGUMENT and nothing changes.
  absl::Status AddValue(const v1::SeriesKey& key, const v1::Value& value, absl::Time at);

  // Returns one Point per series of every window that ended at or before
  // `now` (canonical series keys, aligned window_start_ns, window_ns), oldest
  // window first, and forgets those windows.
  std::vector<v1::Point> Flush(absl::Time now);
  // As Flush, but for every window, the current partial one included (at
  // shutdown). Points of a partial window still carry the full window_ns.
  std::vector<v1::Point> FlushAll();

  // The series budget: at most `max_series` distinct series of one metric
  // per window (0: no limit). Beyond it, a new series with a `comm` label is
  // folded into comm="other" (its counts are kept, its name is not); one
  // without `comm` is kept anyway (host-level series are few). Folds are
  // counted per metric.
  void set_series_budget(size_t max_series) { series_budget_ = max_series; }
  size_t series_budget() const { return series_budget_; }
  // Series folded into comm="other" so far, per metric.
  const std::map<std::string, uint64_t>& folded() const { return folded_; }

  absl::Duration window() const { return window_; }
  // The start of the window containing `t`.
  absl::Time WindowStart(absl::Time t) const;
  size_t open_windows() const { return windows_.size(); }

 private:
  struct Cell {
    v1::SeriesKey key;  // canonical
    uint64_t counter = 0;
    v1::Value value;  // every kind but counters (which stay in `counter`)
  };
  // Series in one window, keyed by the canonical key's text so that equal
  // series with differently ordered labels meet in one cell.
  using Window = absl::flat_hash_map<std::string, Cell>;

  // The cell of `key` in the window containing `at`, created if new.
  Cell& CellFor(const v1::SeriesKey& key, absl::Time at);
  // Flushes the windows that start at or before `last_start_ns`.
  std::vector<v1::Point> FlushStartingBy(int64_t last_start_ns);

  const absl::Duration window_;
  const int64_t window_ns_;
  const std::vector<v1::Label> common_labels_;
  std::map<int64_t, Window> windows_;  // by window start, unix ns
  // Distinct series per metric in each open window, for the budget.
  std::map<int64_t, std::map<std::string, size_t>> series_counts_;
  size_t series_budget_ = 0;
  std::map<std::string, uint64_t> folded_;
};

}  // namespace andon::agent
