#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace andon::controller {

// Runs `fn` on its own thread after Trigger(), once for any number of
// triggers that arrive while it waits or runs (a trigger during a run gets
// one more run after it). For work whose result depends only on the state
// at the time it runs, such as pushing every host's probe set after a
// change: the caller (an RPC) returns at once, and a burst of changes costs
// one push. Thread-safe; Stop() (or destruction) waits for a run in progress.
class CoalescingTask {
 public:
  explicit CoalescingTask(std::function<void()> fn);
  ~CoalescingTask() { Stop(); }
  CoalescingTask(const CoalescingTask&) = delete;
  CoalescingTask& operator=(const CoalescingTask&) = delete;

  void Trigger();
  void Stop();
  // Runs so far (for tests).
  int runs() const;

 private:
  void Loop();

  const std::function<void()> fn_;
  mutable absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace andon::controller
