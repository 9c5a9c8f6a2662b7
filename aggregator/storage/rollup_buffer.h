#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "aggregator/storage/raw_block.h"
#include "andon/v1/types.pb.h"

namespace andon::aggregator {

// The 10 s windows not rolled up yet, in memory: for each series and open
// 10 s window, its raw windows and their merged value. When a 10 s window
// closes, the store writes each series' raw windows as one raw block and the
// merged value into the 10 s, 1 min and 1 h levels, so a raw window costs no
// write of its own (it is logged by series id until then). Not
// thread-safe (the store's locks guard it).
// A raw window of a gauge, without a Value (and its Gauge) on the heap.
struct GaugeWindow {
  int64_t start_ns = 0;
  int64_t window_ns = 0;
  double min = 0, max = 0, sum = 0, last = 0;
  uint64_t count = 0;
  int64_t last_time_ns = 0;
};

class RollupBuffer {
 public:
  struct Entry {
    v1::Value merged;
    // The raw windows, sorted by start, then width: a counter series' in
    // `counters` and a gauge series' in `gauges` (compact, without a Value
    // each), any other in `raw`.
    std::vector<RawWindow> raw;
    std::vector<CounterWindow> counters;
    std::vector<GaugeWindow> gauges;

    // The raw block to store for the 10 s window at `start_ns`.
    std::string Encode(int64_t start_ns) const;
  };

  // Adds a raw window to the open 10 s window at `start_ns` of a series.
  // Fails (changing nothing) when the value does not merge with what the
  // window holds (kinds differ).
  absl::Status Add(uint64_t series_id, int64_t start_ns, const RawWindow& window);
  // Asks the CPU to fetch what an Add of this series and window will touch,
  // so that a batch's lookups (each a cache miss in a map of 100,000s of
  // series) overlap instead of waiting one after another.
  void Prefetch(uint64_t series_id, int64_t start_ns) const {
    if (auto it = windows_.find(start_ns); it != windows_.end()) it->second.prefetch(series_id);
  }

  // The series with data in the 10 s window at `start_ns`, by id.
  std::vector<uint64_t> SeriesAt(int64_t start_ns) const;
  // Null if the series has nothing there.
  const Entry* Find(int64_t start_ns, uint64_t series_id) const;
  void Erase(int64_t start_ns, uint64_t series_id);

  // Calls `visit` with each raw window of a series in the 10 s windows
  // starting in [from_ns, to_ns), in time order; stops when it returns false
  // (and returns false then).
  bool Visit(uint64_t series_id, int64_t from_ns, int64_t to_ns,
             const std::function<bool(const RawWindow&)>& visit) const;

  // Open windows (series x 10 s windows) held.
  size_t size() const { return size_; }
  // The start of the oldest open window; only when size() > 0.
  int64_t oldest_start_ns() const { return windows_.begin()->first; }

 private:
  absl::btree_map<int64_t, absl::flat_hash_map<uint64_t, Entry>> windows_;
  size_t size_ = 0;
};

}  // namespace andon::aggregator
