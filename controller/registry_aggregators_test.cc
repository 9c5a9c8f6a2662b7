// Registry: aggregators' weights and draining, persisted across an
// aggregator's re-registration and the registry's reopening.
#include <string>
#include <vector>

#include "controller/registry.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

class RegistryAggregatorsTest : public RegistryTestBase {
 protected:
  void AddAggregator(const std::string& id, uint32_t weight = 0,
                     v1::AggregatorRole role = v1::AGGREGATOR_LEAF,
                     const std::string& parent = "") {
    v1::RegisterAggregatorRequest req;
    req.set_id(id);
    req.set_address(id + ":7410");
    req.set_parent_id(parent);
    req.set_role(role);
    req.set_weight(weight);
    ASSERT_TRUE(registry_->RegisterAggregator(req).ok());
  }

  // Connected hosts host-0 .. host-(n-1).
  void AddHosts(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "host-" + std::to_string(i);
      ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo(id), "inst-" + id).ok());
      ASSERT_TRUE(registry_->SetConnected(id, "inst-" + id, true).ok());
    }
  }

  v1::Aggregator Listed(const std::string& id) {
    auto a = registry_->GetAggregator(id);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *a : v1::Aggregator();
  }

  std::map<std::string, std::string> Assignment(int hosts) {
    const ShardMap shards = registry_->LiveShardMap();
    std::map<std::string, std::string> out;
    for (int i = 0; i < hosts; ++i) {
      const std::string id = "host-" + std::to_string(i);
      out[id] = shards.Lookup(id)->id();
    }
    return out;
  }
};

TEST_F(RegistryAggregatorsTest, WeightsComeFromRegistrationZeroMeaningTheDefault) {
  AddAggregator("leaf-1");
  AddAggregator("leaf-2", 300);
  EXPECT_EQ(Listed("leaf-1").weight(), kDefaultAggregatorWeight);
  EXPECT_EQ(Listed("leaf-2").weight(), 300u);
  AddHosts(400);
  // leaf-2 weighs three times leaf-1: about 300 of 400 hosts (tolerance as
  // in shard_map_test, wider for the smaller fleet).
  const auto aggs = registry_->ListAggregators();
  ASSERT_EQ(aggs.size(), 2u);
  EXPECT_EQ(aggs[0].hosts() + aggs[1].hosts(), 400u);
  EXPECT_NEAR(aggs[1].hosts() / 400.0, 0.75, 0.06);
  // A new weight at re-registration is taken.
  AddAggregator("leaf-2", 100);
  EXPECT_EQ(Listed("leaf-2").weight(), 100u);
}

// A record stored before weights existed has weight 0: listed and sharded
// as the default.
TEST_F(RegistryAggregatorsTest, AnOldRecordWithoutWeightHasTheDefault) {
  AddAggregator("leaf-1");
  AddAggregator("leaf-2", 200);
  v1::Aggregator old = Listed("leaf-1");
  old.clear_weight();
  old.clear_live();
  old.clear_hosts();
  ASSERT_TRUE(store_->Put("a/leaf-1", old.SerializeAsString()).ok());
  Reopen();
  EXPECT_EQ(Listed("leaf-1").weight(), kDefaultAggregatorWeight);
  AddHosts(300);
  EXPECT_NEAR(Listed("leaf-2").hosts() / 300.0, 2.0 / 3, 0.07);
}

TEST_F(RegistryAggregatorsTest, DrainingSurvivesReRegistrationAndReopening) {
  AddAggregator("leaf-1");
  AddAggregator("leaf-2");
  AddHosts(200);
  const auto before = Assignment(200);
  auto drained = registry_->SetAggregatorDraining("leaf-1", true);
  ASSERT_TRUE(drained.ok()) << drained.status();
  EXPECT_TRUE(drained->draining());
  EXPECT_TRUE(drained->live());
  EXPECT_EQ(drained->hosts(), 0u);
  EXPECT_EQ(Listed("leaf-2").hosts(), 200u);

  // The aggregator's heartbeats (re-registrations) do not clear it, nor does
  // a restart of the controller.
  clock_.Advance(absl::Seconds(2));
  AddAggregator("leaf-1", 100);
  AddAggregator("leaf-2");
  EXPECT_TRUE(Listed("leaf-1").draining());
  Reopen();
  AddAggregator("leaf-1");
  AddAggregator("leaf-2");
  EXPECT_TRUE(Listed("leaf-1").draining());
  EXPECT_FALSE(Listed("leaf-2").draining());
  for (const auto& [host, agg] : Assignment(200)) EXPECT_EQ(agg, "leaf-2") << host;

  // A draining leaf still holds its hosts' older windows: queries still
  // reach it.
  EXPECT_EQ(registry_->LiveAggregators().size(), 2u);

  // Undrained, every host hashes where it did before.
  auto back = registry_->SetAggregatorDraining("leaf-1", false);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->draining());
  Reopen();
  AddAggregator("leaf-1");
  AddAggregator("leaf-2");
  EXPECT_FALSE(Listed("leaf-1").draining());
  EXPECT_EQ(Assignment(200), before);
}

TEST_F(RegistryAggregatorsTest, ADeadLeafCanBeDrainedBeforeItComesBack) {
  AddAggregator("leaf-1");
  AddAggregator("leaf-2");
  clock_.Advance(absl::Seconds(11));  // both dead
  ASSERT_TRUE(registry_->SetAggregatorDraining("leaf-1", true).ok());
  AddAggregator("leaf-1");
  AddAggregator("leaf-2");
  AddHosts(50);
  for (const auto& [host, agg] : Assignment(50)) EXPECT_EQ(agg, "leaf-2") << host;
}

TEST_F(RegistryAggregatorsTest, WhenEveryLiveLeafIsDrainingTheyKeepTheirHosts) {
  AddAggregator("leaf-1");
  AddAggregator("leaf-2");
  AddHosts(100);
  const auto before = Assignment(100);
  ASSERT_TRUE(registry_->SetAggregatorDraining("leaf-1", true).ok());
  ASSERT_TRUE(registry_->SetAggregatorDraining("leaf-2", true).ok());
  EXPECT_TRUE(registry_->LiveShardMap().all_draining());
  EXPECT_EQ(Assignment(100), before);
  auto assigned = registry_->AssignHost("host-0");
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  EXPECT_EQ(assigned->id(), before.at("host-0"));
  // A leaf that is not draining takes them all.
  AddAggregator("leaf-3");
  EXPECT_FALSE(registry_->LiveShardMap().all_draining());
  for (const auto& [host, agg] : Assignment(100)) EXPECT_EQ(agg, "leaf-3") << host;
}

TEST_F(RegistryAggregatorsTest, UnknownAndInnerAggregatorsAreRefused) {
  AddAggregator("root", 0, v1::AGGREGATOR_INNER);
  AddAggregator("leaf-1", 0, v1::AGGREGATOR_LEAF, "root");
  auto unknown = registry_->SetAggregatorDraining("leaf-9", true);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("'leaf-9'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("andonctl aggregators lists them"));
  EXPECT_EQ(registry_->GetAggregator("leaf-9").status().code(), absl::StatusCode::kNotFound);
  auto inner = registry_->SetAggregatorDraining("root", true);
  EXPECT_EQ(inner.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(inner.status().message(), HasSubstr("inner aggregator"));
  EXPECT_FALSE(Listed("root").draining());
}

}  // namespace
}  // namespace andon::controller
