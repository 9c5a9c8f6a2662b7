#include "controller/coalescing_task.h"

#include <utility>

namespace andon::controller {

CoalescingTask::CoalescingTask(std::function<void()> fn)
    : fn_(std::move(fn)), thread_([this] { Loop(); }) {}

void CoalescingTask::Trigger() {
  absl::MutexLock lock(&mu_);
  pending_ = true;
}

void CoalescingTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int CoalescingTask::runs() const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

void CoalescingTask::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](CoalescingTask* t)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu_) { return t->pending_ || t->stopping_; },
          this));
      if (stopping_) return;
      pending_ = false;
    }
    fn_();
    absl::MutexLock lock(&mu_);
    ++runs_;
  }
}

}  // namespace andon::controller
