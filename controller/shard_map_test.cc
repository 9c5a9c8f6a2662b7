#include "controller/shard_map.h"

#include <algorithm>
#include <map>

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
    if (now != "agg-4") {
      EXPECT_EQ(before.Lookup(h)->id(), now) << h;
    }
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

ShardMap::Member Member(const std::string& id, uint32_t weight, bool draining = false) {
  ShardMap::Member m;
  m.ref.set_id(id);
  m.ref.set_address(id + ":7410");
  m.weight = weight;
  m.draining = draining;
  return m;
}

// Where each host goes.
std::map<std::string, std::string> Assign(const ShardMap& map,
                                          const std::vector<std::string>& hosts) {
  std::map<std::string, std::string> out;
  for (const auto& h : hosts) out[h] = map.Lookup(h)->id();
  return out;
}

constexpr int kManyHosts = 10000;
// Shares of kManyHosts may be off their weight's share by this much: the
// binomial standard deviation at 10,000 hosts is at most 0.5 %, so 2 % is
// four of them (and the hash is fixed, so the result never varies).
constexpr double kShareTolerance = 0.02;

TEST(ShardMapTest, SharesFollowTheWeights) {
  ShardMap two({Member("a", 100), Member("b", 200)});
  auto counts = two.Count(Hosts(kManyHosts));
  EXPECT_NEAR(counts["a"] / double(kManyHosts), 1.0 / 3, kShareTolerance);
  EXPECT_NEAR(counts["b"] / double(kManyHosts), 2.0 / 3, kShareTolerance);

  ShardMap three({Member("a", 100), Member("b", 100), Member("c", 300)});
  counts = three.Count(Hosts(kManyHosts));
  EXPECT_NEAR(counts["a"] / double(kManyHosts), 0.2, kShareTolerance);
  EXPECT_NEAR(counts["b"] / double(kManyHosts), 0.2, kShareTolerance);
  EXPECT_NEAR(counts["c"] / double(kManyHosts), 0.6, kShareTolerance);
}

TEST(ShardMapTest, WeightZeroIsTheDefault) {
  ShardMap zero({Member("a", 0), Member("b", 200)});
  ShardMap hundred({Member("a", kDefaultAggregatorWeight), Member("b", 200)});
  EXPECT_EQ(Assign(zero, Hosts(1000)), Assign(hundred, Hosts(1000)));
}

// Equal weights pick the highest hash, as unweighted rendezvous hashing did,
// so a controller upgraded to weights moves no host.
TEST(ShardMapTest, EqualWeightsPickAsUnweightedHashing) {
  ShardMap map(Aggregators(5));
  for (const auto& h : Hosts(2000)) {
    std::string best;
    uint64_t best_hash = 0;
    for (const auto& a : Aggregators(5)) {
      const uint64_t hash = RendezvousHash(h, a.id());
      if (best.empty() || hash > best_hash) {
        best = a.id();
        best_hash = hash;
      }
    }
    EXPECT_EQ(map.Lookup(h)->id(), best) << h;
  }
}

// With weights, a leaf joining, leaving or draining moves only the hosts
// that must move: no host moves between two leaves that both stay.
TEST(ShardMapTest, WithWeightsOnlyTheAffectedLeafsHostsMove) {
  const std::vector<std::string> hosts = Hosts(kManyHosts);
  const std::vector<ShardMap::Member> base = {Member("a", 100), Member("b", 200), Member("c", 50)};
  const auto before = Assign(ShardMap(base), hosts);

  // Joining: a host either stays or goes to the new leaf, which takes about
  // its weight's share.
  std::vector<ShardMap::Member> joined = base;
  joined.push_back(Member("d", 150));
  const auto after_join = Assign(ShardMap(joined), hosts);
  int to_d = 0;
  for (const auto& h : hosts) {
    if (after_join.at(h) == "d") {
      ++to_d;
    } else {
      EXPECT_EQ(after_join.at(h), before.at(h)) << h << " moved between leaves that stayed";
    }
  }
  EXPECT_NEAR(to_d / double(kManyHosts), 150.0 / 500, kShareTolerance);

  // Leaving and draining: only the leaf's own hosts move, all of them, and
  // they spread over the others by weight (b takes 4x what c takes).
  std::vector<ShardMap::Member> without_a = {base[1], base[2]};
  std::vector<ShardMap::Member> a_draining = base;
  a_draining[0].draining = true;
  for (const auto& members : {without_a, a_draining}) {
    const ShardMap map(members);
    EXPECT_FALSE(map.all_draining());
    std::map<std::string, int> moved_to;
    for (const auto& h : hosts) {
      const std::string now = map.Lookup(h)->id();
      EXPECT_NE(now, "a") << h;
      if (before.at(h) == "a") {
        ++moved_to[now];
      } else {
        EXPECT_EQ(now, before.at(h)) << h << " moved though its leaf stayed";
      }
    }
    const int moved = moved_to["b"] + moved_to["c"];
    EXPECT_NEAR(moved / double(kManyHosts), 100.0 / 350, kShareTolerance);
    EXPECT_NEAR(moved_to["b"] / double(moved), 0.8, 2 * kShareTolerance);
  }
  // Undraining puts every host back where it was.
  EXPECT_EQ(Assign(ShardMap(base), hosts), before);
  const auto drained_counts = ShardMap(a_draining).Count(hosts);
  EXPECT_EQ(drained_counts.at("a"), 0u) << "a draining leaf is counted, with no hosts";
}

TEST(ShardMapTest, ChangingAWeightMovesHostsOnlyToOrFromThatLeaf) {
  const std::vector<std::string> hosts = Hosts(kManyHosts);
  const auto before =
      Assign(ShardMap({Member("a", 100), Member("b", 100), Member("c", 100)}), hosts);
  const auto after =
      Assign(ShardMap({Member("a", 100), Member("b", 100), Member("c", 300)}), hosts);
  int gained = 0;
  for (const auto& h : hosts) {
    if (after.at(h) != before.at(h)) {
      EXPECT_EQ(after.at(h), "c") << h << " moved, but not to the leaf that grew";
      ++gained;
    }
  }
  EXPECT_NEAR(gained / double(kManyHosts), 0.6 - 1.0 / 3, kShareTolerance);
}

TEST(ShardMapTest, WhenEveryLeafIsDrainingTheyKeepTheHostsByWeight) {
  const ShardMap all({Member("a", 100, true), Member("b", 200, true)});
  EXPECT_TRUE(all.all_draining());
  EXPECT_FALSE(all.empty());
  EXPECT_EQ(Assign(all, Hosts(1000)),
            Assign(ShardMap({Member("a", 100), Member("b", 200)}), Hosts(1000)));
  EXPECT_FALSE(ShardMap().all_draining());
  EXPECT_FALSE(ShardMap({Member("a", 100, true), Member("b", 100)}).all_draining());
}

}  // namespace
}  // namespace andon::controller
