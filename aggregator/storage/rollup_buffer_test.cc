#include "aggregator/storage/rollup_buffer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

v1::Value Counter(uint64_t n) {
  v1::Value v;
  v.set_counter(n);
  return v;
}

TEST(RollupBufferTest, MergesPerSeriesAndWindowAndHandsOutTheOldestFirst) {
  RollupBuffer buffer;
  ASSERT_TRUE(buffer.Add(1, 10, Counter(2)).ok());
  ASSERT_TRUE(buffer.Add(1, 10, Counter(3)).ok());
  ASSERT_TRUE(buffer.Add(2, 10, Counter(7)).ok());
  ASSERT_TRUE(buffer.Add(1, 20, Counter(1)).ok());
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer.oldest_start_ns(), 10);
  // A value of another kind does not merge and changes nothing.
  v1::Value gauge;
  gauge.mutable_gauge()->set_count(1);
  EXPECT_FALSE(buffer.Add(1, 10, gauge).ok());

  std::vector<RollupBuffer::Window> taken = buffer.TakeBefore(20);
  ASSERT_EQ(taken.size(), 2u);
  uint64_t total = 0;
  for (const auto& w : taken) {
    EXPECT_EQ(w.start_ns, 10);
    total += w.value.counter();
    if (w.series_id == 1) EXPECT_EQ(w.value.counter(), 5u);
  }
  EXPECT_EQ(total, 12u);
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_EQ(buffer.oldest_start_ns(), 20);
  EXPECT_TRUE(buffer.TakeBefore(20).empty());
  EXPECT_EQ(buffer.TakeBefore(21).size(), 1u);
  EXPECT_EQ(buffer.size(), 0u);
}

}  // namespace
}  // namespace andon::aggregator
