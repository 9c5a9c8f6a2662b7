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
  ASSERT_EQ(e->raw.size(), 2u);
  EXPECT_EQ(e->raw[0].start_ns, 11);
  EXPECT_EQ(e->raw[1].value.counter(), 6u);
  // A value of another kind does not merge and changes nothing.
  RawWindow gauge;
  gauge.start_ns = 13;
  gauge.window_ns = 1;
  gauge.value.mutable_gauge()->set_count(1);
  EXPECT_FALSE(buffer.Add(1, 10, gauge).ok());
  EXPECT_EQ(buffer.Find(10, 1)->raw.size(), 2u);

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

}  // namespace
}  // namespace andon::aggregator
