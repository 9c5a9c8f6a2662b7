#include "common/work_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace andon {
namespace {

TEST(WorkPoolTest, RefusesWorkBeyondItsQueueAndRunsTheRest) {
  std::atomic<int> ran{0};
  absl::Notification started, release;
  {
    WorkPool pool("test", 1, 2);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    started.WaitForNotification();
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; })) << "the queue holds 2";
    release.Notify();
  }  // the destructor runs what was queued
  EXPECT_EQ(ran, 3);
}

TEST(WorkPoolTest, DiscardedWorkNeverRuns) {
  std::atomic<int> ran{0};
  absl::Notification started, release;
  {
    WorkPool pool("test", 1, 8);
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.Notify();
      release.WaitForNotification();
    }));
    started.WaitForNotification();
    ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
    ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_EQ(pool.DiscardQueued(), 2u);
    release.Notify();
  }
  EXPECT_EQ(ran, 0);
}

}  // namespace
}  // namespace andon
