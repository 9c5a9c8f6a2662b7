#include "agent/window.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

v1::Label L(const std::string& name, const std::string& value) {
  v1::Label l;
  l.set_name(name);
  l.set_value(value);
  return l;
}

v1::SeriesKey Key(const std::string& comm, const std::string& syscall) {
  v1::SeriesKey k;
  k.set_metric("syscalls");
  *k.add_labels() = L("syscall", syscall);  // deliberately unsorted
  *k.add_labels() = L("comm", comm);
  return k;
}

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(WindowAccumulatorTest, SumsWithinAWindowAndAligns) {
  WindowAccumulator acc(absl::Seconds(1), {L("host", "h1")});
  acc.AddCounter(Key("bash", "read"), 3, kT0 + absl::Milliseconds(100));
  acc.AddCounter(Key("bash", "read"), 4, kT0 + absl::Milliseconds(900));
  acc.AddCounter(Key("bash", "write"), 1, kT0 + absl::Milliseconds(500));

  EXPECT_TRUE(acc.Flush(kT0 + absl::Milliseconds(999)).empty()) << "window not over yet";
  std::vector<v1::Point> points = acc.Flush(kT0 + absl::Seconds(1));
  ASSERT_EQ(points.size(), 2u);
  std::sort(points.begin(), points.end(), [](const v1::Point& a, const v1::Point& b) {
    return a.value().counter() > b.value().counter();
  });
  const v1::Point& read = points[0];
  EXPECT_EQ(read.value().counter(), 7u);
  EXPECT_EQ(read.window_start_ns(), absl::ToUnixNanos(kT0));
  EXPECT_EQ(read.window_ns(), 1'000'000'000);
  // Canonical: labels sorted by name, host added.
  ASSERT_EQ(read.series().labels_size(), 3);
  EXPECT_EQ(read.series().labels(0).name(), "comm");
  EXPECT_EQ(read.series().labels(1).name(), "host");
  EXPECT_EQ(read.series().labels(1).value(), "h1");
  EXPECT_EQ(read.series().labels(2).name(), "syscall");
  EXPECT_EQ(points[1].value().counter(), 1u);
  EXPECT_EQ(acc.open_windows(), 0u);
}

TEST(WindowAccumulatorTest, SeparatesWindowsAndFlushesOnlyFinishedOnes) {
  WindowAccumulator acc(absl::Seconds(10), {});
  acc.AddCounter(Key("a", "read"), 1, kT0 + absl::Seconds(3));
  acc.AddCounter(Key("a", "read"), 2, kT0 + absl::Seconds(13));
  acc.AddCounter(Key("a", "read"), 5, kT0 + absl::Seconds(25));

  std::vector<v1::Point> points = acc.Flush(kT0 + absl::Seconds(20));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].window_start_ns(), absl::ToUnixNanos(kT0));
  EXPECT_EQ(points[0].value().counter(), 1u);
  EXPECT_EQ(points[1].window_start_ns(), absl::ToUnixNanos(kT0 + absl::Seconds(10)));
  EXPECT_EQ(points[1].value().counter(), 2u);
  EXPECT_EQ(acc.open_windows(), 1u);
  points = acc.Flush(kT0 + absl::Seconds(30));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].value().counter(), 5u);
}

TEST(WindowAccumulatorTest, AlignsToWallClockNotToFirstAdd) {
  WindowAccumulator acc(absl::Seconds(10), {});
  absl::Time t = absl::FromUnixSeconds(1700000007);
  EXPECT_EQ(acc.WindowStart(t), absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(acc.WindowStart(absl::FromUnixSeconds(-3)), absl::FromUnixSeconds(-10));
}

TEST(WindowAccumulatorTest, ProbeLabelWinsOverCommonLabelAndZeroIsIgnored) {
  WindowAccumulator acc(absl::Seconds(1), {L("host", "common")});
  v1::SeriesKey k;
  k.set_metric("execs");
  *k.add_labels() = L("host", "explicit");
  acc.AddCounter(k, 1, kT0);
  acc.AddCounter(Key("x", "read"), 0, kT0);
  std::vector<v1::Point> points = acc.Flush(kT0 + absl::Seconds(1));
  ASSERT_EQ(points.size(), 1u);
  ASSERT_EQ(points[0].series().labels_size(), 1);
  EXPECT_EQ(points[0].series().labels(0).value(), "explicit");
}

TEST(WindowAccumulatorTest, LateAddReopensAFlushedWindow) {
  WindowAccumulator acc(absl::Seconds(1), {});
  acc.AddCounter(Key("a", "read"), 1, kT0);
  ASSERT_EQ(acc.Flush(kT0 + absl::Seconds(1)).size(), 1u);
  acc.AddCounter(Key("a", "read"), 2, kT0 + absl::Milliseconds(10));
  std::vector<v1::Point> points = acc.Flush(kT0 + absl::Seconds(2));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].window_start_ns(), absl::ToUnixNanos(kT0));
  EXPECT_EQ(points[0].value().counter(), 2u);
}

TEST(WindowAccumulatorTest, FlushAllIncludesThePartialWindow) {
  WindowAccumulator acc(absl::Seconds(10), {});
  acc.AddCounter(Key("a", "read"), 1, kT0 + absl::Seconds(3));
  acc.AddCounter(Key("a", "read"), 2, kT0 + absl::Seconds(13));  // still open
  std::vector<v1::Point> points = acc.FlushAll();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].window_start_ns(), absl::ToUnixNanos(kT0));
  EXPECT_EQ(points[1].window_start_ns(), absl::ToUnixNanos(kT0 + absl::Seconds(10)));
  EXPECT_EQ(points[1].value().counter(), 2u);
  EXPECT_EQ(points[1].window_ns(), 10'000'000'000);
  EXPECT_EQ(acc.open_windows(), 0u);
}

}  // namespace
}  // namespace andon::agent

namespace andon::agent {
namespace {

TEST(WindowBudgetTest, SeriesBeyondTheBudgetFoldIntoOtherAndAreCounted) {
  WindowAccumulator acc(absl::Seconds(1), {});
  acc.set_series_budget(3);
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  for (int i = 0; i < 10; ++i) {
    v1::SeriesKey k;
    k.set_metric("syscalls");
    v1::Label* l = k.add_labels();
    l->set_name("comm");
    l->set_value("p" + std::to_string(i));
    acc.AddCounter(k, 5, t);
  }
  std::vector<v1::Point> points = acc.Flush(t + absl::Seconds(1));
  ASSERT_EQ(points.size(), 4u) << "three processes and comm=other";
  uint64_t total = 0, other = 0;
  for (const v1::Point& p : points) {
    total += p.value().counter();
    if (p.series().labels(0).value() == "other") other = p.value().counter();
  }
  EXPECT_EQ(total, 50u) << "nothing counted is lost";
  EXPECT_EQ(other, 35u);
  EXPECT_EQ(acc.folded().at("syscalls"), 7u);
  // A new window starts with a fresh budget.
  v1::SeriesKey k;
  k.set_metric("syscalls");
  v1::Label* l = k.add_labels();
  l->set_name("comm");
  l->set_value("p9");
  acc.AddCounter(k, 1, t + absl::Seconds(1));
  points = acc.Flush(t + absl::Seconds(2));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].series().labels(0).value(), "p9");
}

}  // namespace
}  // namespace andon::agent
