#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace andon {

// A fixed set of threads running submitted work in order, with a bounded
// queue: work that would overflow it is refused at once, so a burst of
// requests turns into clear "busy" errors instead of unbounded memory or
// latency. Keeps slow work (queries) off gRPC's callback threads.
// Thread-safe. The destructor runs the work already queued, then joins.
class WorkPool {
 public:
  WorkPool(std::string name, size_t threads, size_t max_queued);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `work`; false (and `work` dropped uncalled) when max_queued
  // items are waiting already.
  bool TrySubmit(std::function<void()> work);

  // Drops the work still queued, uncalled (work already running goes on);
  // returns how much.
  size_t DiscardQueued();

  size_t max_queued() const { return max_queued_; }
  size_t threads() const { return threads_.size(); }

 private:
  void Loop();
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace andon
