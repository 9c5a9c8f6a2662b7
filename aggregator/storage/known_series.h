#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"

namespace andon::aggregator {

// The series ids the store has recently seen, with each series' fingerprint
// (common/series_key.h), so that ingest writes a series' index entries only
// once and notices an id taken by another series; and, for each, the hour
// from which its last-seen entry is due to be written again, so that ingest
// writes it about once a day, not with every point. Bounded: two
// generations of at most `max_per_generation` entries each; when the current
// one fills up it becomes the old one and the older is dropped, and a hit in
// the old one moves to the current. Memory is bounded however many series
// were ever seen; a forgotten series costs one read of the store when it
// comes back. Not thread-safe.
class KnownSeries {
 public:
  explicit KnownSeries(size_t max_per_generation)
      : max_(max_per_generation < 1 ? 1 : max_per_generation) {}

  enum class Found { kUnknown, kSame, kOther };
  // kSame if `id` is known with this fingerprint, kOther if with another.
  Found Find(uint64_t id, uint64_t fingerprint) {
    if (auto it = current_.find(id); it != current_.end()) {
      return it->second.fingerprint == fingerprint ? Found::kSame : Found::kOther;
    }
    auto it = old_.find(id);
    if (it == old_.end()) return Found::kUnknown;
    const Entry known = it->second;
    Insert(id, known.fingerprint, known.stamp_due_hour);
    return known.fingerprint == fingerprint ? Found::kSame : Found::kOther;
  }

  // Asks the CPU to fetch what a Find of `id` will touch (see
  // RollupBuffer::Prefetch).
  void Prefetch(uint64_t id) const { current_.prefetch(id); }

  // Remembers `id`; its last-seen entry is next due at `stamp_due_hour`.
  void Insert(uint64_t id, uint64_t fingerprint, int64_t stamp_due_hour = 0) {
    if (current_.size() >= max_) {
      old_ = std::move(current_);
      current_ = {};
    }
    current_[id] = Entry{fingerprint, stamp_due_hour};
  }

  // True when the last-seen entry of `id`, just found, is due at `hour`;
  // it is then next due `every_hours` later.
  bool StampDue(uint64_t id, int64_t hour, int64_t every_hours) {
    auto it = current_.find(id);
    if (it == current_.end() || hour < it->second.stamp_due_hour) return false;
    it->second.stamp_due_hour = hour + every_hours;
    return true;
  }

  void Erase(uint64_t id) {
    current_.erase(id);
    old_.erase(id);
  }

  size_t size() const { return current_.size() + old_.size(); }

 private:
  struct Entry {
    uint64_t fingerprint = 0;
    int64_t stamp_due_hour = 0;
  };
  const size_t max_;
  absl::flat_hash_map<uint64_t, Entry> current_;
  absl::flat_hash_map<uint64_t, Entry> old_;
};

}  // namespace andon::aggregator
