#include "aggregator/storage/rollup_buffer.h"

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

TEST(RollupBufferTest, OtherKindsAreHeldAsValues) {
  RollupBuffer buffer;
  RawWindow gauge;
  gauge.start_ns = 1;
  gauge.window_ns = 1;
  gauge.value.mutable_gauge()->set_count(1);
  gauge.value.mutable_gauge()->set_sum(2);
  ASSERT_TRUE(buffer.Add(1, 0, gauge).ok());
  gauge.start_ns = 2;
  ASSERT_TRUE(buffer.Add(1, 0, gauge).ok());
  EXPECT_FALSE(buffer.Add(1, 0, Counter(3, 1)).ok()) << "a counter into a gauge series";
  const RollupBuffer::Entry* e = buffer.Find(0, 1);
  EXPECT_TRUE(e->counters.empty());
  EXPECT_EQ(e->raw.size(), 2u);
  EXPECT_EQ(e->merged.gauge().count(), 2u);
}

}  // namespace
}  // namespace andon::aggregator
