#include "agent/probes/syscalls/bucket_distribution.h"

#include "common/value/log_linear_bucket.h"
#include "common/value/value_test_util.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(LogLinearBucketBoundsTest, InvertsTheBucketFunction) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 255ull, 256ull, 1000ull, 999424ull, 1000000ull,
                     1ull << 40, (1ull << 63) + 12345, ~0ull}) {
    const int index = andon_log_linear_bucket(v);
    const BucketBounds b = LogLinearBucketBounds(index);
    EXPECT_LE(b.lower, v) << v;
    EXPECT_GE(b.upper, v) << v;
    EXPECT_EQ(andon_log_linear_bucket(b.lower), index) << v;
    EXPECT_EQ(andon_log_linear_bucket(b.upper), index) << v;
    if (b.lower > 0) {
      EXPECT_EQ(andon_log_linear_bucket(b.lower - 1), index - 1) << v;
    }
  }
  EXPECT_EQ(LogLinearBucketBounds(ANDON_DIST_MAX_BUCKET).upper, ~0ull);
}

TEST(DistributionFromBucketsTest, ExactCountsAndBoundedSummary) {
  const int small = andon_log_linear_bucket(5);
  const int big = andon_log_linear_bucket(1000000);
  v1::Distribution d = DistributionFromBuckets({{small, 2}, {big, 3}, {big + 1, 0}});
  EXPECT_EQ(d.sub_bucket_bits(), 7u);
  EXPECT_EQ(d.count(), 5u);
  EXPECT_EQ(value_test::BucketMap(d).size(), 2u);
  EXPECT_EQ(value_test::BucketMap(d).at(big), 3u);
  EXPECT_EQ(d.min(), 5.0);
  const BucketBounds b = LogLinearBucketBounds(big);
  EXPECT_EQ(d.max(), static_cast<double>(b.upper));
  EXPECT_NEAR(d.sum(), 10 + 3 * 1000000.0, 3 * 1000000.0 / 128);
}

}  // namespace
}  // namespace andon::agent
