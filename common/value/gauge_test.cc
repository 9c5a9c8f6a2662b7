#include "common/value/gauge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/value/value_test_util.h"

namespace andon {
namespace {

using value_test::DeterministicBytes;
using value_test::MergeRandomTree;

TEST(MergeGaugeTest, CombinesAndKeepsTheLatestSample) {
  v1::Gauge a = GaugeOf(5, 100);
  MergeGauge(GaugeOf(1, 300), a);
  MergeGauge(GaugeOf(9, 200), a);
  EXPECT_EQ(a.min(), 1);
  EXPECT_EQ(a.max(), 9);
  EXPECT_EQ(a.sum(), 15);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.last(), 1);
  EXPECT_EQ(a.last_time_ns(), 300);
}

TEST(MergeGaugeTest, TiesInTimeTakeTheLargerValueInEitherOrder) {
  v1::Gauge a = GaugeOf(2, 100), b = GaugeOf(7, 100);
  v1::Gauge ab = a, ba = b;
  MergeGauge(b, ab);
  MergeGauge(a, ba);
  EXPECT_EQ(ab.last(), 7);
  EXPECT_EQ(DeterministicBytes(ab), DeterministicBytes(ba));
  // Signed zeros and NaN, which std::min/max would order by argument position.
  v1::Gauge p = GaugeOf(0.0, 5), n = GaugeOf(-0.0, 5), q = GaugeOf(std::nan(""), 5);
  v1::Gauge pn = p, np = n;
  MergeGauge(n, pn);
  MergeGauge(p, np);
  EXPECT_EQ(DeterministicBytes(pn), DeterministicBytes(np));
  EXPECT_TRUE(std::signbit(pn.min()));
  EXPECT_FALSE(std::signbit(pn.max()));
  v1::Gauge pq = p, qp = q;
  MergeGauge(q, pq);
  MergeGauge(p, qp);
  EXPECT_EQ(pq.min(), 0.0);
  EXPECT_EQ(qp.min(), 0.0);
  EXPECT_EQ(pq.max(), qp.max());
  EXPECT_TRUE(std::isnan(pq.last()) && std::isnan(qp.last()));
}

TEST(MergeGaugeTest, EmptyIsTheIdentity) {
  const v1::Gauge g = GaugeOf(3, 10);
  v1::Gauge x;
  MergeGauge(g, x);
  EXPECT_EQ(DeterministicBytes(x), DeterministicBytes(g));
  MergeGauge(v1::Gauge(), x);
  EXPECT_EQ(DeterministicBytes(x), DeterministicBytes(g));
  v1::Gauge junk;  // count 0 with leftovers: two empties give the default gauge
  junk.set_max(4);
  MergeGauge(v1::Gauge(), junk);
  EXPECT_EQ(DeterministicBytes(junk), DeterministicBytes(v1::Gauge()));
}

TEST(MergeGaugeTest, AnyOrderAndGroupingGivesTheSameBytes) {
  std::mt19937_64 rng(5);
  std::vector<v1::Gauge> windows;
  for (int w = 0; w < 40; ++w) {
    v1::Gauge g;
    const int samples = 1 + static_cast<int>(rng() % 50);
    for (int s = 0; s < samples; ++s) {
      // Multiples of 1/1024 below 10^6: every sum is exact (see gauge.h).
      const double value = static_cast<double>(rng() % 1'000'000'000) / 1024 - 400'000;
      const int64_t time = static_cast<int64_t>(rng() % 64);  // many equal times
      MergeGauge(GaugeOf(value, time), g);
    }
    windows.push_back(g);
  }
  windows.push_back(v1::Gauge());
  std::set<std::string> seen;
  for (int trial = 0; trial < 30; ++trial) {
    seen.insert(DeterministicBytes(MergeRandomTree<v1::Gauge>(windows, rng, MergeGauge)));
  }
  EXPECT_EQ(seen.size(), 1u);
}

}  // namespace
}  // namespace andon
