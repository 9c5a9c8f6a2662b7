#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace andon::agent {

// Keeps the last `capacity` items pushed; older ones fall off the front.
// Not thread-safe.
template <typename T>
class BoundedRing {
 public:
  explicit BoundedRing(size_t capacity) : capacity_(capacity) {}

  // Returns true if an old item was discarded to make room.
  bool Push(T item) {
    if (capacity_ == 0) return true;
    bool evicted = items_.size() == capacity_;
    if (evicted) items_.pop_front();
    items_.push_back(std::move(item));
    return evicted;
  }
  std::vector<T> Snapshot() const { return {items_.begin(), items_.end()}; }
  size_t size() const { return items_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::deque<T> items_;
};

}  // namespace andon::agent
