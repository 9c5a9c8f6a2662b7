#include "aggregator/storage/rollup_buffer.h"

#include "common/value_merge.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

RawWindow Counter(int64_t start, uint64_t n, int64_t width = 1) {
  RawWindow w;
  w.start_ns = start;
  w.window_ns = width;
  w.value.set_counter(n);
  return w;
}

TEST(RollupBufferTest, KeepsRawWindowsAndTheirMergedValuePerSeriesAndWindow) {
  RollupBuffer buffer;
  ASSERT_TRUE(buffer.Add(1, 10, Counter(12, 2)).ok());
  ASSERT_TRUE(buffer.Add(1, 10, Counter(11, 3)).ok());
  ASSERT_TRUE(buffer.Add(1, 10, Counter(12, 4)).ok());  // the same window again: merges
  ASSERT_TRUE(buffer.Add(2, 10, Counter(10, 7)).ok());
  ASSERT_TRUE(buffer.Add(1, 20, Counter(20, 1)).ok());
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer.oldest_start_ns(), 10);
  EXPECT_THAT(buffer.SeriesAt(10), ::testing::ElementsAre(1, 2));
  const RollupBuffer::Entry* e = buffer.Find(10, 1);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->merged.counter(), 9u);
  // Counters are held compactly, merged and sorted as any raw window.
  EXPECT_TRUE(e->raw.empty());
  ASSERT_EQ(e->counters.size(), 2u);
  EXPECT_EQ(e->counters[0].start_ns, 11);
  EXPECT_EQ(e->counters[1].count, 6u);
  // A value of another kind does not merge and changes nothing.
  RawWindow gauge;
  gauge.start_ns = 13;
  gauge.window_ns = 1;
  gauge.value.mutable_gauge()->set_count(1);
  EXPECT_FALSE(buffer.Add(1, 10, gauge).ok());
  EXPECT_EQ(buffer.Find(10, 1)->counters.size(), 2u);
  EXPECT_EQ(buffer.Find(10, 1)->merged.counter(), 9u);

  std::vector<int64_t> seen;
  buffer.Visit(1, 0, 30, [&](const RawWindow& w) {
    seen.push_back(w.start_ns);
    return true;
  });
  EXPECT_THAT(seen, ::testing::ElementsAre(11, 12, 20));

  buffer.Erase(10, 1);
  buffer.Erase(10, 2);
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_EQ(buffer.oldest_start_ns(), 20);
  EXPECT_EQ(buffer.Find(10, 1), nullptr);
}

// The block written for compactly held counters is the one the same windows
// held as values would give, in order or not, whole seconds or not.
TEST(RollupBufferTest, CounterWindowsEncodeAsTheSameRawBlock) {
  constexpr int64_t kS = 1000000000;
  const std::vector<std::vector<RawWindow>> cases = {
      {Counter(0, 5, kS), Counter(kS, 7, kS), Counter(2 * kS, 0, kS)},
      {Counter(3 * kS, 1, kS), Counter(kS, 2, kS), Counter(3 * kS, 4, kS)},
      {Counter(kS, 1, 2 * kS), Counter(5 * kS, 9, 2 * kS)},
      {Counter(123, 1, 77), Counter(0, 3, 5 * kS)},
  };
  for (const std::vector<RawWindow>& windows : cases) {
    RollupBuffer buffer;
    std::vector<RawWindow> sorted;
    for (const RawWindow& w : windows) {
      ASSERT_TRUE(buffer.Add(1, 0, w).ok());
      ASSERT_TRUE(AddRawWindow(sorted, w).ok());
    }
    const RollupBuffer::Entry* e = buffer.Find(0, 1);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->Encode(0), EncodeRawBlock(0, sorted));
    std::vector<RawWindow> back;
    ASSERT_TRUE(DecodeRawBlock(0, e->Encode(0), &back).ok());
    ASSERT_EQ(back.size(), sorted.size());
    for (size_t i = 0; i < back.size(); ++i) {
      EXPECT_EQ(back[i].start_ns, sorted[i].start_ns);
      EXPECT_EQ(back[i].window_ns, sorted[i].window_ns);
      EXPECT_EQ(back[i].value.counter(), sorted[i].value.counter());
    }
  }
}

RawWindow Gauge(int64_t start, double v, int64_t at, int64_t width = 1) {
  RawWindow w;
  w.start_ns = start;
  w.window_ns = width;
  andon::v1::Gauge* g = w.value.mutable_gauge();
  g->set_min(v);
  g->set_max(v);
  g->set_sum(v);
  g->set_count(1);
  g->set_last(v);
  g->set_last_time_ns(at);
  return w;
}

// Gauges are held compactly too, and merge (in order, out of order, the
// same window twice) as raw windows with values do.
TEST(RollupBufferTest, GaugeWindowsMergeAndEncodeAsValuesDo) {
  const std::vector<RawWindow> windows = {Gauge(3, 1.5, 30), Gauge(1, 7, 10), Gauge(3, 0.25, 31),
                                          Gauge(5, -2, 50),  Gauge(2, 9, 20), Gauge(5, 4, 49),
                                          Gauge(5, 3, 50, 2)};
  RollupBuffer buffer;
  std::vector<RawWindow> sorted;
  andon::v1::Value merged;
  for (size_t i = 0; i < windows.size(); ++i) {
    ASSERT_TRUE(buffer.Add(1, 0, windows[i]).ok());
    ASSERT_TRUE(AddRawWindow(sorted, windows[i]).ok());
    if (i == 0) {
      merged = windows[i].value;
    } else {
      ASSERT_TRUE(MergeValue(windows[i].value, merged).ok());
    }
  }
  const RollupBuffer::Entry* e = buffer.Find(0, 1);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->raw.empty());
  EXPECT_EQ(e->gauges.size(), sorted.size());
  EXPECT_EQ(e->merged.SerializeAsString(), merged.SerializeAsString());
  EXPECT_EQ(e->Encode(0), EncodeRawBlock(0, sorted));
  std::vector<RawWindow> seen;
  buffer.Visit(1, 0, 10, [&](const RawWindow& w) {
    seen.push_back(w);
    return true;
  });
  ASSERT_EQ(seen.size(), sorted.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].value.SerializeAsString(), sorted[i].value.SerializeAsString());
  }
  EXPECT_FALSE(buffer.Add(1, 0, Counter(3, 1)).ok()) << "a counter into a gauge series";
  EXPECT_EQ(buffer.Find(0, 1)->gauges.size(), sorted.size());
}

TEST(RollupBufferTest, OtherKindsAreHeldAsValues) {
  RollupBuffer buffer;
  RawWindow top;
  top.start_ns = 1;
  top.window_ns = 1;
  top.value.mutable_top_k();
  ASSERT_TRUE(buffer.Add(1, 0, top).ok());
  EXPECT_FALSE(buffer.Add(1, 0, Counter(2, 1)).ok()) << "a counter into another series";
  const RollupBuffer::Entry* e = buffer.Find(0, 1);
  EXPECT_TRUE(e->counters.empty());
  EXPECT_TRUE(e->gauges.empty());
  EXPECT_EQ(e->raw.size(), 1u);
}

}  // namespace
}  // namespace andon::aggregator
