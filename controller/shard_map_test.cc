#include "controller/shard_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

std::vector<v1::AggregatorRef> Aggregators(int n) {
  std::vector<v1::AggregatorRef> out;
  for (int i = 0; i < n; ++i) {
    v1::AggregatorRef a;
    a.set_id(absl::StrCat("agg-", i));
    a.set_address(absl::StrCat("10.0.0.", i, ":7410"));
    out.push_back(a);
  }
  return out;
}

std::vector<std::string> Hosts(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(absl::StrCat("host-", i));
  return out;
}

TEST(ShardMapTest, EmptyMapAssignsNothing) {
  ShardMap empty;
  EXPECT_EQ(empty.Lookup("h"), nullptr);
}

TEST(ShardMapTest, RemovingAnAggregatorMovesOnlyItsHosts) {
  auto aggs = Aggregators(5);
  ShardMap before(aggs);
  std::vector<v1::AggregatorRef> fewer(aggs.begin(), aggs.end());
  fewer.erase(fewer.begin() + 2);  // agg-2 dies
  ShardMap after(fewer);
  int moved = 0;
  for (const auto& h : Hosts(1000)) {
    std::string was = before.Lookup(h)->id();
    std::string now = after.Lookup(h)->id();
    if (was != "agg-2") {
      EXPECT_EQ(was, now) << h << " moved though its aggregator stayed";
    } else {
      EXPECT_NE(now, "agg-2");
      ++moved;
    }
  }
  EXPECT_GT(moved, 100);
  EXPECT_LT(moved, 300);
}

TEST(ShardMapTest, AddingAnAggregatorTakesOnlyHostsItWins) {
  ShardMap before(Aggregators(4));
  ShardMap after(Aggregators(5));
  for (const auto& h : Hosts(1000)) {
    std::string now = after.Lookup(h)->id();
    if (now != "agg-4") EXPECT_EQ(before.Lookup(h)->id(), now) << h;
  }
}

TEST(ShardMapTest, RoughlyBalanced) {
  ShardMap map(Aggregators(5));
  auto counts = map.Count(Hosts(1000));
  ASSERT_EQ(counts.size(), 5u);
  for (const auto& [id, n] : counts) {
    EXPECT_GT(n, 140u) << id;  // expected 200 each
    EXPECT_LT(n, 260u) << id;
  }
}

TEST(ShardMapTest, IndependentOfInputOrderAndAddresses) {
  auto aggs = Aggregators(5);
  ShardMap a(aggs);
  std::reverse(aggs.begin(), aggs.end());
  ShardMap b(aggs);
  for (const auto& h : Hosts(200)) EXPECT_EQ(a.Lookup(h)->id(), b.Lookup(h)->id());
}

}  // namespace
}  // namespace andon::controller
