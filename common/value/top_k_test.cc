#include "common/value/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/value/value_test_util.h"

namespace andon {
namespace {

using value_test::DeterministicBytes;
using value_test::MergeRandomTree;
using Truth = std::map<std::string, uint64_t>;

// Checks every promise of top_k.h for summary `t` of a stream with true
// counts `truth`.
void CheckBounds(const v1::TopK& t, const Truth& truth, uint32_t capacity) {
  uint64_t total = 0;
  for (const auto& [key, n] : truth) total += n;
  ASSERT_EQ(t.total(), total);
  ASSERT_EQ(t.capacity(), capacity);
  EXPECT_LE(t.unlisted_bound(), total / capacity);
  std::set<std::string> listed;
  for (int i = 0; i < t.entries_size(); ++i) {
    const auto& e = t.entries(i);
    ASSERT_TRUE(listed.insert(e.key()).second) << "listed twice: " << e.key();
    const auto it = truth.find(e.key());
    const uint64_t true_count = it == truth.end() ? 0 : it->second;
    EXPECT_LE(e.error(), e.count());
    EXPECT_LE(e.count() - e.error(), true_count) << e.key();
    EXPECT_GE(e.count(), true_count) << e.key();
    EXPECT_LE(e.error(), total / capacity) << e.key();
    if (i > 0) {
      const auto& p = t.entries(i - 1);
      EXPECT_TRUE(p.count() > e.count() || (p.count() == e.count() && p.key() < e.key()));
    }
  }
  for (const auto& [key, n] : truth) {
    if (n * capacity > total) {
      EXPECT_TRUE(listed.count(key)) << "heavy key missing: " << key;
    }
    if (!listed.count(key)) {
      EXPECT_LE(n, t.unlisted_bound()) << key;
    }
  }
}

// Zipf(s) over `keys` keys by inverse CDF.
class Zipf {
 public:
  Zipf(int keys, double s) {
    double sum = 0;
    for (int k = 1; k <= keys; ++k) cdf_.push_back(sum += 1 / std::pow(k, s));
    for (double& c : cdf_) c /= sum;
  }
  int operator()(std::mt19937_64& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<int>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

TEST(TopKBuilderTest, ExactWhileKeysFit) {
  TopKBuilder b(4);
  b.Add("a", 5);
  b.Add("b");
  b.Add("c", 2);
  b.Add("a");
  b.Add("z", 0);  // ignored
  const v1::TopK t = b.ToProto();
  EXPECT_EQ(t.unlisted_bound(), 0u);
  ASSERT_EQ(t.entries_size(), 3);
  EXPECT_EQ(t.entries(0).key(), "a");
  EXPECT_EQ(t.entries(0).count(), 6u);
  EXPECT_EQ(t.entries(0).error(), 0u);
  EXPECT_EQ(t.entries(2).key(), "b");
  CheckBounds(t, {{"a", 6}, {"b", 1}, {"c", 2}}, 4);
}

TEST(TopKBuilderTest, ZipfStreamKeepsItsBounds) {
  std::mt19937_64 rng(3);
  Zipf zipf(20'000, 1.1);
  TopKBuilder b(50);
  Truth truth;
  for (int i = 0; i < 200'000; ++i) {
    const std::string key = absl::StrCat("key", zipf(rng));
    const uint64_t n = 1 + rng() % 3;
    b.Add(key, n);
    truth[key] += n;
  }
  CheckBounds(b.ToProto(), truth, 50);
}

TEST(TopKBuilderTest, AdversarialStreamsKeepTheirBounds) {
  // Many distinct keys, then a heavy key late.
  {
    TopKBuilder b(20);
    Truth truth;
    for (int i = 0; i < 50'000; ++i) {
      b.Add(absl::StrCat("once", i));
      truth[absl::StrCat("once", i)] = 1;
    }
    b.Add("late", 5'000);
    truth["late"] = 5'000;
    CheckBounds(b.ToProto(), truth, 20);
  }
  // Keys in sorted order, each in one run, the heaviest last.
  {
    TopKBuilder b(20);
    Truth truth;
    for (int k = 0; k < 2'000; ++k) {
      const std::string key = absl::StrCat("k", 10000 + k);
      const uint64_t n = 1 + static_cast<uint64_t>(k) * k / 1000;
      for (uint64_t i = 0; i < n; ++i) b.Add(key);
      truth[key] = n;
    }
    CheckBounds(b.ToProto(), truth, 20);
  }
}

// `parts` summaries: each has its own keys, a zipf background, and a share
// of a key that is heavy fleet-wide but light in most parts.
struct Split {
  std::vector<v1::TopK> summaries;
  Truth truth;
};
Split MakeSplit(int parts, uint32_t capacity, std::mt19937_64& rng) {
  Split s;
  Zipf zipf(5'000, 1.0);
  for (int p = 0; p < parts; ++p) {
    TopKBuilder b(capacity + p % 3);  // capacities differ: the merge takes the smallest
    auto add = [&](const std::string& key, uint64_t n) {
      b.Add(key, n);
      s.truth[key] += n;
    };
    for (int i = 0; i < 2'000; ++i) add(absl::StrCat("z", zipf(rng)), 1);
    for (int k = 0; k < 3 * static_cast<int>(capacity); ++k)
      add(absl::StrCat("local", p, "_", k), 40);
    // Below the local bound (about 6250 / capacity) in most parts, heavy in a
    // few: heavy fleet-wide only through the sum.
    add("fleet", p % 16 == 0 ? 3000 : 150);
    for (int i = 0; i < 500; ++i) add(absl::StrCat("once", p, "_", i), 1);
    s.summaries.push_back(b.ToProto());
  }
  s.summaries.push_back(TopKBuilder(capacity).ToProto());  // an empty one too
  return s;
}

TEST(MergeTopKTest, AnyOrderAndGroupingGivesTheSameBytesAndKeepsBounds) {
  std::mt19937_64 rng(9);
  const uint32_t capacity = 30;
  const Split split = MakeSplit(64, capacity, rng);
  v1::TopK left_fold;
  for (const auto& t : split.summaries) MergeTopK(t, left_fold);
  CheckBounds(left_fold, split.truth, capacity);
  const std::string expected = DeterministicBytes(left_fold);
  for (int trial = 0; trial < 20; ++trial) {
    const v1::TopK merged = MergeRandomTree<v1::TopK>(split.summaries, rng, MergeTopK);
    ASSERT_EQ(DeterministicBytes(merged), expected) << "trial " << trial;
  }
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<v1::TopK> shuffled = split.summaries;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    TopKMerger merger;
    for (const auto& t : shuffled) merger.Add(t);
    EXPECT_EQ(DeterministicBytes(merger.ToProto()), expected);
  }
}

TEST(MergeTopKTest, ZipfSplitAcrossManySummariesKeepsBounds) {
  std::mt19937_64 rng(10);
  Zipf zipf(50'000, 1.2);
  std::vector<TopKBuilder> hosts(200, TopKBuilder(25));
  Truth truth;
  for (int i = 0; i < 400'000; ++i) {
    const std::string key = absl::StrCat("k", zipf(rng));
    hosts[rng() % hosts.size()].Add(key);
    ++truth[key];
  }
  std::vector<v1::TopK> summaries;
  for (const auto& h : hosts) summaries.push_back(h.ToProto());
  const v1::TopK a = MergeRandomTree<v1::TopK>(summaries, rng, MergeTopK);
  const v1::TopK b = MergeRandomTree<v1::TopK>(summaries, rng, MergeTopK);
  EXPECT_EQ(DeterministicBytes(a), DeterministicBytes(b));
  CheckBounds(a, truth, 25);
}

TEST(MergeTopKTest, UnlistedKeysChargeTheOtherSummarysBound) {
  v1::TopK a, b;
  a.set_capacity(2);
  a.set_total(10);
  a.set_unlisted_bound(3);
  auto* e = a.add_entries();
  e->set_key("x");
  e->set_count(7);
  e->set_error(3);
  b.set_capacity(5);
  b.set_total(4);
  e = b.add_entries();
  e->set_key("y");
  e->set_count(4);
  MergeTopK(b, a);
  EXPECT_EQ(a.capacity(), 2u);
  EXPECT_EQ(a.total(), 14u);
  EXPECT_EQ(a.unlisted_bound(), 3u);
  ASSERT_EQ(a.entries_size(), 2);
  // Equal counts sort by key. x: 7 + 0 (b is exact). y: 4 + up to 3 unseen in a.
  EXPECT_EQ(a.entries(0).key(), "x");
  EXPECT_EQ(a.entries(0).count(), 7u);
  EXPECT_EQ(a.entries(0).error(), 3u);
  EXPECT_EQ(a.entries(1).key(), "y");
  EXPECT_EQ(a.entries(1).error(), 3u);
  EXPECT_EQ(a.entries(1).count(), 7u);
}

TEST(TopKEntriesTest, SortedByCountThenKey) {
  TopKBuilder b(10);
  b.Add("b", 3);
  b.Add("a", 3);
  b.Add("c", 9);
  b.Add("d", 1);
  const auto top = TopKEntries(b.ToProto(), 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].key(), "c");
  EXPECT_EQ(top[1].key(), "a");
  EXPECT_EQ(top[2].key(), "b");
  EXPECT_EQ(TopKEntries(b.ToProto(), 100).size(), 4u);
}

TEST(TruncateTopKTest, KeepsTheLargestAndTheBounds) {
  std::mt19937_64 rng(4);
  const Split split = MakeSplit(16, 10, rng);
  v1::TopK t;
  for (const auto& s : split.summaries) MergeTopK(s, t);
  ASSERT_GT(t.entries_size(), 10);
  const std::string tenth = t.entries(9).key();
  TruncateTopK(10, t);
  ASSERT_LE(t.entries_size(), 10);
  EXPECT_EQ(t.entries(t.entries_size() - 1).key(), tenth);
  // Intervals stay true; unlisted keys stay under the raised bound.
  for (const auto& e : t.entries()) {
    EXPECT_LE(e.count() - e.error(), split.truth.at(e.key()));
    EXPECT_GE(e.count(), split.truth.at(e.key()));
  }
  std::set<std::string> listed;
  for (const auto& e : t.entries()) listed.insert(e.key());
  for (const auto& [key, n] : split.truth) {
    if (!listed.count(key)) {
      EXPECT_LE(n, t.unlisted_bound()) << key;
    }
  }
}

}  // namespace
}  // namespace andon
