#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"

namespace andon::aggregator {

// The series ids the store has recently seen, with each series' fingerprint
// (common/series_key.h), so that ingest writes a series' index entries only
// once and notices an id taken by another series. Bounded: two generations
// of at most `max_per_generation` entries each; when the current one fills
// up it becomes the old one and the older is dropped, and a hit in the old
// one moves to the current. Memory is bounded however many series were ever
// seen; a forgotten series costs one read of the store when it comes back.
// Not thread-safe.
class KnownSeries {
 public:
  explicit KnownSeries(size_t max_per_generation)
      : max_(max_per_generation < 1 ? 1 : max_per_generation) {}

  enum class Found { kUnknown, kSame, kOther };
  // kSame if `id` is known with this fingerprint, kOther if with another.
  Found Find(uint64_t id, uint64_t fingerprint) {
    if (auto it = current_.find(id); it != current_.end()) {
      return it->second == fingerprint ? Found::kSame : Found::kOther;
    }
    auto it = old_.find(id);
    if (it == old_.end()) return Found::kUnknown;
    const uint64_t known = it->second;
    Insert(id, known);
    return known == fingerprint ? Found::kSame : Found::kOther;
  }

  void Insert(uint64_t id, uint64_t fingerprint) {
    if (current_.size() >= max_) {
      old_ = std::move(current_);
      current_ = {};
    }
    current_[id] = fingerprint;
  }

  void Erase(uint64_t id) {
    current_.erase(id);
    old_.erase(id);
  }

  size_t size() const { return current_.size() + old_.size(); }

 private:
  const size_t max_;
  absl::flat_hash_map<uint64_t, uint64_t> current_;
  absl::flat_hash_map<uint64_t, uint64_t> old_;
};

}  // namespace andon::aggregator
