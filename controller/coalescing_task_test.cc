#include "controller/coalescing_task.h"

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

TEST(CoalescingTaskTest, TriggersDuringARunGiveOneMoreRun) {
  absl::Notification entered, release;
  absl::Mutex mu;
  int calls = 0;
  CoalescingTask task([&] {
    {
      absl::MutexLock lock(&mu);
      ++calls;
    }
    if (!entered.HasBeenNotified()) {
      entered.Notify();
      release.WaitForNotification();
    }
  });
  task.Trigger();
  entered.WaitForNotification();  // the first run is in progress
  for (int i = 0; i < 5; ++i) task.Trigger();
  release.Notify();
  // Exactly one more run for the five triggers: wait for it by the count.
  while (task.runs() < 2) absl::SleepFor(absl::Milliseconds(1));
  task.Trigger();
  while (task.runs() < 3) absl::SleepFor(absl::Milliseconds(1));
  task.Stop();
  EXPECT_EQ(task.runs(), 3);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace andon::controller
