#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/value/distribution.h"
#include "common/value/distribution_merger.h"
#include "common/value/value_test_util.h"

namespace andon {
namespace {

using value_test::DeterministicBytes;
using value_test::MergeRandomTree;

void Merge(const v1::Distribution& from, v1::Distribution& into) {
  ASSERT_TRUE(MergeDistribution(from, into).ok());
}

// `hosts` distributions of lognormal latencies below 1 s, so that every sum
// stays an integer below 2^53 and merges are exact to the bit.
std::vector<v1::Distribution> HostDistributions(int hosts, int samples, std::mt19937_64& rng) {
  std::vector<v1::Distribution> out;
  for (int h = 0; h < hosts; ++h) {
    std::lognormal_distribution<double> latency(std::log(1e4 * (1 + h % 7)), 0.3 + 0.1 * (h % 5));
    DistributionBuilder b;
    const int n = samples / 2 + static_cast<int>(rng() % samples);
    for (int i = 0; i < n; ++i)
      b.Add(std::min<uint64_t>(1'000'000'000, static_cast<uint64_t>(latency(rng))));
    if (h % 4 == 0) b.Add(0, 3);
    out.push_back(b.ToProto());
  }
  out.push_back(DistributionBuilder().ToProto());  // an empty one joins too
  return out;
}

TEST(MergeDistributionTest, AnyOrderAndGroupingGivesTheSameBytes) {
  std::mt19937_64 rng(11);
  const std::vector<v1::Distribution> hosts = HostDistributions(24, 2000, rng);
  v1::Distribution left_fold;
  for (const auto& d : hosts) Merge(d, left_fold);
  const std::string expected = DeterministicBytes(left_fold);
  std::set<std::string> seen;
  for (int trial = 0; trial < 30; ++trial) {
    seen.insert(DeterministicBytes(MergeRandomTree<v1::Distribution>(hosts, rng, Merge)));
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(*seen.begin(), expected);
  // And the flat merger gives the same proto, in any input order.
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<v1::Distribution> shuffled = hosts;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    DistributionMerger merger;
    for (const auto& d : shuffled) ASSERT_TRUE(merger.Add(d).ok());
    EXPECT_EQ(DeterministicBytes(merger.ToProto()), expected);
  }
  uint64_t count = 0;
  for (const auto& d : hosts) count += d.count();
  EXPECT_EQ(left_fold.count(), count);
}

TEST(MergeDistributionTest, HugeSumsDifferOnlyInTheLastBitsOfSum) {
  // Sums of days of nanoseconds pass 2^53: the double sum rounds, the rest stays exact.
  std::mt19937_64 rng(12);
  std::vector<v1::Distribution> parts;
  for (int p = 0; p < 12; ++p) {
    DistributionBuilder b;
    for (int i = 0; i < 5000; ++i)
      b.Add(static_cast<uint64_t>(86400e9 * (rng() % 1000) / 1000) + rng() % 977);
    parts.push_back(b.ToProto());
  }
  v1::Distribution a = MergeRandomTree<v1::Distribution>(parts, rng, Merge);
  v1::Distribution b = MergeRandomTree<v1::Distribution>(parts, rng, Merge);
  EXPECT_NEAR(a.sum(), b.sum(), a.sum() * 1e-14);
  a.clear_sum();
  b.clear_sum();
  EXPECT_EQ(DeterministicBytes(a), DeterministicBytes(b));
}

TEST(MergeDistributionTest, ResolutionMismatchFailsAndLeavesTarget) {
  DistributionBuilder b;
  b.Add(5);
  v1::Distribution into = b.ToProto();
  v1::Distribution from = into;
  from.set_sub_bucket_bits(4);
  const std::string before = DeterministicBytes(into);
  EXPECT_EQ(MergeDistribution(from, into).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DeterministicBytes(into), before);
  DistributionMerger merger;
  ASSERT_TRUE(merger.Add(into).ok());
  EXPECT_EQ(merger.Add(from).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DeterministicBytes(merger.ToProto()), before);
}

TEST(MergeDistributionTest, MalformedInputFailsAndLeavesTarget) {
  DistributionBuilder b;
  b.Add(5);
  v1::Distribution into = b.ToProto();
  const std::string before = DeterministicBytes(into);
  v1::Distribution bad_index = into;
  bad_index.add_bucket_index_deltas(kDistributionMaxBucket + 1);
  bad_index.add_bucket_counts(1);
  bad_index.set_count(2);
  v1::Distribution bad_count = into;
  bad_count.set_count(3);
  v1::Distribution twice = into;  // the same index again
  twice.add_bucket_index_deltas(0);
  twice.add_bucket_counts(1);
  twice.set_count(2);
  v1::Distribution lengths = into;  // an index without a count
  lengths.add_bucket_index_deltas(1);
  v1::Distribution both = into;  // map and arrays
  (*both.mutable_buckets())[1] = 1;
  both.set_count(2);
  for (const auto& bad : {bad_index, bad_count, twice, lengths, both}) {
    EXPECT_EQ(MergeDistribution(bad, into).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(DeterministicBytes(into), before);
    DistributionMerger merger;
    EXPECT_EQ(merger.Add(bad).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(MergeDistributionTest, EmptiesAreIdentities) {
  DistributionBuilder b;
  b.Add(10);
  const v1::Distribution d = b.ToProto();
  v1::Distribution empty0;  // sub_bucket_bits 0
  v1::Distribution empty7 = DistributionBuilder().ToProto();
  v1::Distribution x = empty0;
  Merge(d, x);
  EXPECT_EQ(DeterministicBytes(x), DeterministicBytes(d));
  x = d;
  Merge(empty0, x);
  EXPECT_EQ(DeterministicBytes(x), DeterministicBytes(d));
  // Two empties: the same canonical empty in both orders.
  v1::Distribution e1 = empty0, e2 = empty7;
  Merge(empty7, e1);
  Merge(empty0, e2);
  EXPECT_EQ(DeterministicBytes(e1), DeterministicBytes(e2));
  EXPECT_EQ(e1.sub_bucket_bits(), 7u);
}

TEST(DistributionMergerTest, TenThousandHostsMergeToTheExactCounts) {
  std::mt19937_64 rng(13);
  const std::vector<v1::Distribution> hosts = HostDistributions(10'000, 100, rng);
  DistributionMerger merger;
  std::vector<uint64_t> expected(kDistributionMaxBucket + 1, 0);
  uint64_t count = 0;
  for (const auto& d : hosts) {
    ASSERT_TRUE(merger.Add(d).ok());
    for (const auto& [i, n] : value_test::BucketMap(d)) expected[i] += n;
    count += d.count();
  }
  const v1::Distribution merged = merger.ToProto();
  EXPECT_EQ(merged.count(), count);
  EXPECT_TRUE(ValidateDistribution(merged).ok());
  const std::map<int32_t, uint64_t> buckets = value_test::BucketMap(merged);
  for (int32_t i = 0; i <= kDistributionMaxBucket; ++i) {
    const auto it = buckets.find(i);
    ASSERT_EQ(it == buckets.end() ? 0 : it->second, expected[i]) << i;
  }
}

// Values written before the packed arrays carry a map: they are read as
// they were, and merging them gives what merging their new form gives.
TEST(MergeDistributionTest, TheOldMapEncodingMergesAsTheArraysDo) {
  std::mt19937_64 rng(5);
  const std::vector<v1::Distribution> hosts = HostDistributions(50, 200, rng);
  auto as_map = [](const v1::Distribution& d) {
    v1::Distribution old = d;
    old.clear_bucket_index_deltas();
    old.clear_bucket_counts();
    for (const auto& [i, n] : value_test::BucketMap(d)) (*old.mutable_buckets())[i] = n;
    return old;
  };
  v1::Distribution from_arrays, from_maps;
  DistributionMerger merger;
  for (size_t h = 0; h < hosts.size(); ++h) {
    const v1::Distribution old = as_map(hosts[h]);
    ASSERT_TRUE(ValidateDistribution(old).ok());
    if (hosts[h].count() > 0) {
      EXPECT_EQ(DistributionQuantile(old, 0.99), DistributionQuantile(hosts[h], 0.99));
    }
    ASSERT_TRUE(MergeDistribution(hosts[h], from_arrays).ok());
    // Old into new and new into old, alternately.
    if (h % 2 == 0) {
      ASSERT_TRUE(MergeDistribution(old, from_maps).ok());
    } else {
      v1::Distribution into = as_map(from_maps);
      ASSERT_TRUE(MergeDistribution(hosts[h], into).ok());
      from_maps = into;
    }
    ASSERT_TRUE(merger.Add(old).ok());
  }
  EXPECT_EQ(DeterministicBytes(from_maps), DeterministicBytes(from_arrays));
  EXPECT_EQ(DeterministicBytes(merger.ToProto()), DeterministicBytes(from_arrays));
  EXPECT_TRUE(from_arrays.buckets().empty());  // written in the new encoding
}

}  // namespace
}  // namespace andon
