#include "agent/probes/biolatency/bucket_distribution.h"

#include <random>

#include "common/value/distribution.h"
#include "common/value/log_linear_bucket.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(BucketDistributionTest, BoundsInvertTheKernelBucketing) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const int index = andon_log_linear_bucket(v);
    const BucketBounds b = LogLinearBucketBounds(index);
    ASSERT_LE(b.lower, v) << "index " << index;
    ASSERT_GE(b.upper, v) << "index " << index;
    // Neighbouring buckets tile the line without gaps.
    if (index > 0) {
      ASSERT_EQ(LogLinearBucketBounds(index - 1).upper + 1, b.lower);
    }
  }
  EXPECT_EQ(LogLinearBucketBounds(ANDON_DIST_MAX_BUCKET).upper, ~uint64_t{0});
}

TEST(BucketDistributionTest, BuildsASparseDistribution) {
  const int small = andon_log_linear_bucket(5);
  const int big = andon_log_linear_bucket(1000000);
  v1::Value v = BucketsToDistribution({{small, 3}, {big, 2}, {big + 1, 0}});
  const v1::Distribution& d = v.distribution();
  EXPECT_EQ(d.sub_bucket_bits(), 7u);
  EXPECT_EQ(d.count(), 5u);
  EXPECT_EQ(andon::DistributionBucketCount(d), 2);
  EXPECT_EQ(d.min(), 5);
  const BucketBounds b = LogLinearBucketBounds(big);
  EXPECT_EQ(d.max(), static_cast<double>(b.upper));
  EXPECT_NEAR(d.sum(), 15 + (b.lower + b.upper), 1);
  EXPECT_NEAR(d.sum(), 15 + 2e6, 2e6 * 0.008);
}

}  // namespace
}  // namespace andon::agent
