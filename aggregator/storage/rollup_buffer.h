#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "andon/v1/types.pb.h"

namespace andon::aggregator {

// The 10 s windows still open for roll-up: raw windows merge here in memory,
// and only when a 10 s window closes is it merged, once, into the stored
// 10 s, 1 min and 1 h windows, so a raw window costs one write, not four.
// The store keeps the windows before its roll-up cursor rolled up on disk
// and rebuilds this buffer from the raw level after a restart. Not
// thread-safe (the store's apply lock guards it).
class RollupBuffer {
 public:
  struct Window {
    uint64_t series_id = 0;
    int64_t start_ns = 0;  // of the 10 s window
    v1::Value value;
  };

  // Merges `value` into the open 10 s window at `start_ns` of a series.
  // Fails (changing nothing) when the value does not merge with what the
  // window holds (kinds differ).
  absl::Status Add(uint64_t series_id, int64_t start_ns, const v1::Value& value);

  // Removes and returns every window starting before `until_ns`.
  std::vector<Window> TakeBefore(int64_t until_ns);

  // Open windows (series x 10 s windows) held.
  size_t size() const { return size_; }
  // The start of the oldest open window; only when size() > 0.
  int64_t oldest_start_ns() const { return windows_.begin()->first; }

 private:
  absl::btree_map<int64_t, absl::flat_hash_map<uint64_t, v1::Value>> windows_;
  size_t size_ = 0;
};

}  // namespace andon::aggregator
