#include "common/value/distribution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <vector>

#include "common/value/log_linear_bucket.h"
#include "common/value/value_test_util.h"

namespace andon {
namespace {

using value_test::MergeRandomTree;

constexpr double kDayNs = 86400e9;

TEST(DistributionBucketTest, MatchesTheCMappingAndItsBounds) {
  for (int32_t i = 0; i <= kDistributionMaxBucket; ++i) {
    const uint64_t lower = DistributionBucketLower(i);
    const uint64_t upper = DistributionBucketUpper(i);
    ASSERT_EQ(DistributionBucket(lower), i);
    ASSERT_EQ(andon_log_linear_bucket(lower), i);
    ASSERT_EQ(DistributionBucket(upper - 1), i) << i;
    if (i < kDistributionMaxBucket) {
      ASSERT_EQ(DistributionBucket(upper), i + 1) << i;
      ASSERT_EQ(DistributionBucketLower(i + 1), upper);
    }
    // A bucket is at most 1/128 of its lower bound wide.
    if (lower >= 128) {
      ASSERT_LE(upper - 1 - lower, lower / 128) << i;
    }
  }
  EXPECT_EQ(DistributionBucket(0), 0);
  EXPECT_EQ(DistributionBucket(127), 127);
  EXPECT_EQ(DistributionBucket(255), 255);  // values below 256 are exact
  EXPECT_EQ(DistributionBucket(256), 256);
  EXPECT_EQ(DistributionBucket(257), 256);
  EXPECT_EQ(DistributionBucket(UINT64_MAX), kDistributionMaxBucket);
  EXPECT_EQ(DistributionBucketUpper(kDistributionMaxBucket), UINT64_MAX);
  EXPECT_EQ(LogLinearMaxBucket(7), kDistributionMaxBucket);
  // The brief's form of the mapping: ((e - 6) << 7) + ((v >> (e - 7)) & 127).
  std::mt19937_64 rng(1);
  for (int n = 0; n < 100000; ++n) {
    const uint64_t v = rng() >> (rng() % 64);
    if (v < 128) continue;
    const int e = 63 - __builtin_clzll(v);
    ASSERT_EQ(DistributionBucket(v), ((e - 6) << 7) + static_cast<int>((v >> (e - 7)) & 127));
  }
}

TEST(DistributionBuilderTest, AddKeepsExactStatistics) {
  DistributionBuilder b;
  b.Add(0);
  b.Add(1000, 3);
  b.Add(123456789);
  b.Add(7, 0);  // ignored
  const v1::Distribution d = b.ToProto();
  EXPECT_EQ(d.sub_bucket_bits(), 7u);
  EXPECT_EQ(d.count(), 5u);
  EXPECT_EQ(d.sum(), 3000.0 + 123456789);
  EXPECT_EQ(d.min(), 0);
  EXPECT_EQ(d.max(), 123456789);
  const std::map<int32_t, uint64_t> buckets = value_test::BucketMap(d);
  EXPECT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets.at(0), 1u);
  EXPECT_EQ(buckets.at(DistributionBucket(1000)), 3u);
  EXPECT_TRUE(d.buckets().empty());  // the packed arrays, not the old map
  EXPECT_TRUE(ValidateDistribution(d).ok());
}

TEST(DistributionBuilderTest, AddBucketUsesBucketBounds) {
  DistributionBuilder b;
  const int32_t i = DistributionBucket(1'000'000);
  const uint64_t lower = DistributionBucketLower(i);
  const uint64_t last = DistributionBucketUpper(i) - 1;
  ASSERT_TRUE(b.AddBucket(i, 4).ok());
  ASSERT_TRUE(b.AddBucket(5, 2).ok());
  EXPECT_EQ(b.AddBucket(kDistributionMaxBucket + 1, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.AddBucket(-1, 1).code(), absl::StatusCode::kInvalidArgument);
  const v1::Distribution d = b.ToProto();
  EXPECT_EQ(d.count(), 6u);
  EXPECT_EQ(d.sum(), 4 * (static_cast<double>(lower) + static_cast<double>(last)) / 2 + 2 * 5);
  EXPECT_EQ(d.min(), 5);
  EXPECT_EQ(d.max(), static_cast<double>(last));
  EXPECT_EQ(value_test::BucketMap(d).at(i), 4u);
}

TEST(DistributionBuilderTest, EmptyHasNoBucketsAndNoQuantile) {
  const v1::Distribution d = DistributionBuilder().ToProto();
  EXPECT_EQ(d.count(), 0u);
  EXPECT_EQ(DistributionBucketCount(d), 0);
  EXPECT_TRUE(std::isnan(DistributionQuantile(d, 0.5)));
}

TEST(DistributionQuantileTest, ExactForSmallValuesAndClampedToMinMax) {
  DistributionBuilder b;
  for (uint64_t v = 0; v < 200; ++v) b.Add(v);
  const v1::Distribution d = b.ToProto();
  EXPECT_EQ(DistributionQuantile(d, 0), 0);
  EXPECT_EQ(DistributionQuantile(d, 0.5), 99);  // rank ceil(100) = 100 -> value 99
  EXPECT_EQ(DistributionQuantile(d, 1), 199);
  DistributionBuilder one;
  one.Add(1'000'001);
  EXPECT_EQ(DistributionQuantile(one.ToProto(), 0.5), 1'000'001);  // clamped
}

// Raw samples in ns, several shapes, 1 ns to 1 day, some zeros.
std::vector<uint64_t> Samples(int shape, size_t n, std::mt19937_64& rng) {
  std::vector<uint64_t> out;
  out.reserve(n);
  std::lognormal_distribution<double> fast(std::log(50e3), 0.6);  // ~50 us
  std::lognormal_distribution<double> slow(std::log(20e6), 0.4);  // ~20 ms
  std::lognormal_distribution<double> wide(std::log(1e6), 2.5);   // 1 ms, very wide
  std::uniform_real_distribution<double> unit(0, 1);
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    switch (shape) {
      case 0:
        v = fast(rng);
        break;
      case 1:
        v = unit(rng) < 0.8 ? fast(rng) : slow(rng);
        break;  // bimodal
      case 2:
        v = std::exp(unit(rng) * std::log(kDayNs));
        break;  // log-uniform, 1 ns .. 1 day
      case 3:
        v = unit(rng) < 0.1 ? 0 : wide(rng);
        break;  // zeros + wide lognormal
      default:
        v = unit(rng) < 0.3 ? 0 : std::floor(unit(rng) * 300);
        break;  // small integers
    }
    out.push_back(static_cast<uint64_t>(std::min(std::round(v), kDayNs)));
  }
  return out;
}

// The nearest-rank quantile of sorted `values`, as DistributionQuantile defines it.
uint64_t ExactQuantile(const std::vector<uint64_t>& sorted, double q) {
  const double n = static_cast<double>(sorted.size());
  const uint64_t rank =
      std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(q * n)), 1, sorted.size());
  return sorted[rank - 1];
}

TEST(DistributionQuantileTest, MergedQuantilesStayWithinTheBound) {
  std::mt19937_64 rng(20240601);
  for (int shape = 0; shape < 5; ++shape) {
    std::vector<uint64_t> all = Samples(shape, 200'000, rng);
    // Split the samples over 16 "hosts" of uneven sizes, merge along a random tree.
    std::vector<DistributionBuilder> hosts(16);
    for (uint64_t v : all) hosts[rng() % (1 + rng() % 16)].Add(v);
    std::vector<v1::Distribution> parts;
    for (const auto& h : hosts) parts.push_back(h.ToProto());
    const v1::Distribution merged = MergeRandomTree<v1::Distribution>(
        parts, rng, [](const v1::Distribution& from, v1::Distribution& into) {
          ASSERT_TRUE(MergeDistribution(from, into).ok());
        });
    ASSERT_EQ(merged.count(), all.size());
    std::sort(all.begin(), all.end());
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
      const double exact = static_cast<double>(ExactQuantile(all, q));
      const double estimate = DistributionQuantile(merged, q);
      // Stated bound: 2^-(B+1) = 1/256 of the exact value; and the brief's 1 %.
      EXPECT_LE(std::abs(estimate - exact), exact / 256 + 1e-9)
          << "shape " << shape << " q " << q << " exact " << exact << " estimate " << estimate;
      EXPECT_LE(std::abs(estimate - exact), exact * 0.01 + 1e-9);
    }
  }
}

TEST(DistributionCoarseBucketsTest, PowerOfTwoBucketsKeepCounts) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> all = Samples(3, 50'000, rng);
  DistributionBuilder b;
  for (uint64_t v : all) b.Add(v);
  const v1::Distribution d = b.ToProto();
  for (uint32_t bits : {0u, 2u, 7u}) {
    const auto cells = DistributionCoarseBuckets(d, bits);
    uint64_t total = 0;
    for (size_t i = 0; i < cells.size(); ++i) {
      total += cells[i].second;
      if (i > 0) {
        EXPECT_LT(cells[i - 1].first, cells[i].first);
      }
      if (bits == 0 && cells[i].first != 0) {
        EXPECT_EQ(cells[i].first & (cells[i].first - 1), 0u) << "not a power of two";
      }
    }
    EXPECT_EQ(total, d.count());
    if (bits == 7) {
      EXPECT_EQ(static_cast<int>(cells.size()), DistributionBucketCount(d));
    }
  }
  // Counts per power-of-two range match the raw values.
  const auto cells = DistributionCoarseBuckets(d, 0);
  for (const auto& [lower, count] : cells) {
    const uint64_t upper = lower == 0 ? 1 : lower * 2;
    const auto n =
        std::count_if(all.begin(), all.end(), [&](uint64_t v) { return v >= lower && v < upper; });
    EXPECT_EQ(static_cast<uint64_t>(n), count) << lower;
  }
}

TEST(DistributionSizeTest, TypicalLatencyDistribution) {
  std::mt19937_64 rng(42);
  for (double sigma : {0.25, 0.5, 1.0}) {
    std::lognormal_distribution<double> latency(std::log(100e3), sigma);  // median 100 us
    DistributionBuilder b;
    for (int i = 0; i < 100'000; ++i) b.Add(static_cast<uint64_t>(latency(rng)));
    const v1::Distribution d = b.ToProto();
    const size_t bytes = d.ByteSizeLong();
    const int buckets = DistributionBucketCount(d);
    std::printf("lognormal sigma %.2f, 1e5 samples: %d buckets, %zu bytes (%.1f per bucket)\n",
                sigma, buckets, bytes, static_cast<double>(bytes) / buckets);
    // An index delta and a count, most of them one or two bytes each; the
    // map entries of the old encoding took 7.
    EXPECT_LE(bytes, 4 * static_cast<size_t>(buckets) + 48);
    if (sigma <= 0.5) {
      EXPECT_LE(bytes, 2048u);
    }
  }
}

}  // namespace
}  // namespace andon
