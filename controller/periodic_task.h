#pragma once

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace andon::controller {

// Runs `fn` every `period` on its own thread until Stop() or destruction.
// The period is real time: this drives housekeeping, not domain logic.
// Start/Stop from one owner thread; `fn` runs on the task's thread.
class PeriodicTask {
 public:
  PeriodicTask(absl::Duration period, std::function<void()> fn);
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();
  // Waits for a run in progress to end; idempotent.
  void Stop();

 private:
  const absl::Duration period_;
  const std::function<void()> fn_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace andon::controller
