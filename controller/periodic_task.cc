#include "controller/periodic_task.h"

namespace andon::controller {

PeriodicTask::PeriodicTask(absl::Duration period, std::function<void()> fn)
    : period_(period), fn_(std::move(fn)) {}

void PeriodicTask::Start() {
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(period_)) fn_();
  });
}

void PeriodicTask::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace andon::controller
