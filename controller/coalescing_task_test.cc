#include "controller/coalescing_task.h"

#include <utility>

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
  auto calls_reach = [&](int n) {
    std::pair<int*, int> want(&calls, n);
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::pair<int*, int>* c) { return *c->first >= c->second; }, &want));
  };
  calls_reach(2);
  task.Trigger();
  calls_reach(3);
  task.Stop();
  EXPECT_EQ(task.runs(), 3);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace andon::controller
