#include "controller/registry.h"

#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

class RegistryTest : public RegistryTestBase {
 protected:
  void AddAggregator(const std::string& id, const std::string& address,
                     const std::string& parent = "",
                     v1::AggregatorRole role = v1::AGGREGATOR_LEAF) {
    v1::RegisterAggregatorRequest req;
    req.set_id(id);
    req.set_address(address);
    req.set_parent_id(parent);
    req.set_role(role);
    ASSERT_TRUE(registry_->RegisterAggregator(req).ok());
  }

  static std::vector<std::string> Ids(const std::vector<v1::AggregatorRef>& refs) {
    std::vector<std::string> out;
    for (const auto& r : refs) out.push_back(r.id());
    return out;
  }
};

TEST_F(RegistryTest, KeepsTheTreeShardsOnlyOnLeavesAndFindsItsTop) {
  AddAggregator("root", "10.0.0.1:7410", "", v1::AGGREGATOR_INNER);
  AddAggregator("leaf-1", "10.0.0.2:7410", "root");
  AddAggregator("leaf-2", "10.0.0.3:7410", "root");
  v1::RegisterAggregatorRequest again;
  again.set_id("leaf-1");
  again.set_address("10.0.0.2:7410");
  again.set_parent_id("root");
  auto parent = registry_->RegisterAggregator(again);
  ASSERT_TRUE(parent.ok()) << parent.status();
  EXPECT_EQ(parent->address(), "10.0.0.1:7410");
  EXPECT_EQ(Ids(registry_->LiveAggregators()), (std::vector<std::string>{"leaf-1", "leaf-2"}));
  EXPECT_EQ(Ids(registry_->TreeTops()), (std::vector<std::string>{"root"}));

  // A dead root is stood in for by its children; the tree survives a restart.
  clock_.Advance(absl::Seconds(11));
  AddAggregator("leaf-1", "10.0.0.2:7410", "root");
  AddAggregator("leaf-2", "10.0.0.3:7410", "root");
  EXPECT_EQ(Ids(registry_->TreeTops()), (std::vector<std::string>{"leaf-1", "leaf-2"}));
  parent = registry_->RegisterAggregator(again);
  ASSERT_TRUE(parent.ok());
  EXPECT_TRUE(parent->address().empty()) << "a dead parent's address is not handed out";
  Reopen();
  auto aggs = registry_->ListAggregators();
  ASSERT_EQ(aggs.size(), 3u);
  EXPECT_EQ(aggs[0].parent_id(), "root");
  EXPECT_EQ(aggs[2].id(), "root");
  EXPECT_EQ(aggs[2].role(), v1::AGGREGATOR_INNER);
}

TEST_F(RegistryTest, RefusesAParentThatWouldCloseACycle) {
  AddAggregator("a", "10.0.0.1:7410", "b");
  AddAggregator("b", "10.0.0.2:7410", "c");
  v1::RegisterAggregatorRequest req;
  req.set_id("c");
  req.set_address("10.0.0.3:7410");
  req.set_parent_id("a");
  auto refused = registry_->RegisterAggregator(req);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("below it in the tree"));
  req.set_parent_id("c");
  EXPECT_THAT(registry_->RegisterAggregator(req).status().message(),
              HasSubstr("names itself as its parent"));
}

TEST_F(RegistryTest, HostsAndAggregatorsSurviveRestart) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("db-1", {{"role", "db"}}), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("db-1", "inst-a", true).ok());
  AddAggregator("agg-1", "10.0.0.1:7410");
  ASSERT_TRUE(registry_->AssignHost("db-1").ok());

  Reopen();

  auto host = registry_->GetHost("db-1");
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->instance_id(), "inst-a");
  EXPECT_EQ(host->info().labels().at("role"), "db");
  EXPECT_EQ(host->aggregator_id(), "agg-1");
  EXPECT_FALSE(host->connected()) << "streams die with the process";
  auto aggs = registry_->ListAggregators();
  ASSERT_EQ(aggs.size(), 1u);
  EXPECT_EQ(aggs[0].address(), "10.0.0.1:7410");
  EXPECT_TRUE(aggs[0].live());
  EXPECT_EQ(aggs[0].hosts(), 1u);
}

TEST_F(RegistryTest, SecondLiveInstanceIsRejectedAndFirstRecordKept) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1", {{"rack", "r1"}}), "inst-a").ok());
  clock_.Advance(absl::Seconds(5));
  auto second = registry_->RegisterHost(MakeHostInfo("web-1", {{"rack", "r9"}}), "inst-b");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("host id 'web-1' is already held by a live agent (instance inst-a"));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("different --host_id"));
  auto host = registry_->GetHost("web-1");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->instance_id(), "inst-a");
  EXPECT_EQ(host->info().labels().at("rack"), "r1");
}

TEST_F(RegistryTest, ConnectedHostIsLivePastTtl) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", true).ok());
  for (int i = 0; i < 300; ++i) {  // five minutes of heartbeats, one a second
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(registry_->RecordHeartbeat("web-1", "inst-a", v1::Heartbeat()).ok());
  }
  EXPECT_EQ(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, SilentlyDeadAgentsStreamDoesNotHoldTheId) {
  // A host that lost power leaves its stream open on the controller until
  // keepalive notices; its heartbeats stop at once.
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", true).ok());
  clock_.Advance(absl::Seconds(11));
  auto taken = registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(registry_->RecordHeartbeat("web-1", "inst-a", v1::Heartbeat()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, StaleHostCanBeTakenOver) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", true).ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", false).ok());
  clock_.Advance(absl::Seconds(31));
  auto taken = registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->instance_id(), "inst-b");
  // The old instance can no longer act for the host.
  EXPECT_EQ(registry_->SetConnected("web-1", "inst-a", true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->RecordHeartbeat("web-1", "inst-a", v1::Heartbeat()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistryTest, RestartedAgentTakesOverAtOnceOnceItsStreamClosed) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", true).ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", false).ok());
  clock_.Advance(absl::Seconds(1));  // well within host_ttl
  auto taken = registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->instance_id(), "inst-b");
}

TEST_F(RegistryTest, RegistrationHoldsTheIdUntilItsStreamOpensOrGraceEnds) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b").status().code(),
            absl::StatusCode::kAlreadyExists);
  clock_.Advance(absl::Seconds(2));  // inst-a never opened its control stream
  EXPECT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b").ok());
}

TEST_F(RegistryTest, AfterControllerRestartAHostIsFreeUntilAnAgentConnects) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", true).ok());
  Reopen();
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-b").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-b", true).ok());
  EXPECT_EQ(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, SameInstanceMayReRegister) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  ASSERT_TRUE(registry_->SetConnected("web-1", "inst-a", true).ok());
  auto again = registry_->RegisterHost(MakeHostInfo("web-1", {{"role", "web"}}), "inst-a");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->info().labels().at("role"), "web");
}

TEST_F(RegistryTest, InvalidHostInfoIsRejected) {
  for (const std::string& id :
       {std::string(""), std::string("bad host"), std::string("a/b"), std::string(254, 'x')}) {
    auto r = registry_->RegisterHost(MakeHostInfo(id), "inst-a");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << "id '" << id << "'";
  }
  EXPECT_TRUE(registry_->RegisterHost(MakeHostInfo(std::string(253, 'x')), "i").ok());
  auto bad_label = registry_->RegisterHost(MakeHostInfo("ok-1", {{"1role", "db"}}), "inst-a");
  EXPECT_EQ(bad_label.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_label.status().message()), HasSubstr("1role"));
  EXPECT_EQ(registry_->RegisterHost(MakeHostInfo("ok-1"), "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->GetHost("ok-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, AfterARestartTheLiveAggregatorsStayLiveForAWindowAndHostsKeepTheirs) {
  AddAggregator("agg-old", "a:0");
  clock_.Advance(absl::Seconds(30));  // agg-old died long before the restart
  AddAggregator("agg-1", "a:1");
  AddAggregator("agg-2", "a:2");
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  auto assigned = registry_->AssignHost("web-1");
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  ASSERT_TRUE(registry_->Flush().ok());

  clock_.Advance(absl::Minutes(2));  // the controller was down this long
  Reopen();
  std::vector<std::string> live;
  for (const auto& a : registry_->LiveAggregators()) live.push_back(a.id());
  EXPECT_EQ(live, (std::vector<std::string>{"agg-1", "agg-2"}))
      << "those live before the restart, until they miss their heartbeats";
  clock_.Advance(absl::Seconds(11));
  EXPECT_TRUE(registry_->LiveAggregators().empty());
  // With none live, a known host keeps its aggregator; a new one waits.
  auto kept = registry_->AssignHost("web-1");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->id(), assigned->id());
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-2"), "inst-b").ok());
  EXPECT_EQ(registry_->AssignHost("web-2").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RegistryTest, AggregatorLiveForFiveHeartbeats) {
  AddAggregator("agg-1", "a:1");
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(registry_->LiveAggregators().size(), 1u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(registry_->LiveAggregators().empty());
  EXPECT_FALSE(registry_->ListAggregators()[0].live());
  EXPECT_EQ(registry_->AssignHost("nobody").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RegistryTest, ListHostsFiltersBySelector) {
  ASSERT_TRUE(
      registry_->RegisterHost(MakeHostInfo("a", {{"role", "db"}, {"rack", "r1"}}), "1").ok());
  ASSERT_TRUE(
      registry_->RegisterHost(MakeHostInfo("b", {{"role", "db"}, {"rack", "r2"}}), "2").ok());
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("c", {{"role", "web"}}), "3").ok());
  EXPECT_EQ(registry_->ListHosts({}).size(), 3u);
  EXPECT_EQ(registry_->ListHosts({{"role", "db"}}).size(), 2u);
  auto r1 = registry_->ListHosts({{"role", "db"}, {"rack", "r1"}});
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].info().host_id(), "a");
  EXPECT_TRUE(registry_->ListHosts({{"zone", "z"}}).empty());
}

}  // namespace
}  // namespace andon::controller

namespace andon::controller {
namespace {

TEST_F(RegistryTest, HostRemembersThePreviousAggregatorsThatHoldItsWindows) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst-a").ok());
  AddAggregator("agg-1", "10.0.0.1:7410");
  AddAggregator("agg-2", "10.0.0.2:7410");
  ASSERT_TRUE(registry_->SetAssignment("web-1", "agg-1").ok());
  ASSERT_TRUE(registry_->SetAssignment("web-1", "agg-2").ok());
  auto holding = registry_->AggregatorsOfHost("web-1");
  ASSERT_EQ(holding.size(), 2u);
  EXPECT_EQ(holding[0].id(), "agg-2");
  EXPECT_EQ(holding[1].id(), "agg-1");
  ASSERT_TRUE(registry_->SetAssignment("web-1", "agg-1").ok());  // and back
  auto host = registry_->GetHost("web-1");
  ASSERT_TRUE(host.ok());
  ASSERT_EQ(host->previous_aggregator_ids_size(), 1);
  EXPECT_EQ(host->previous_aggregator_ids(0), "agg-2");
  Reopen();
  EXPECT_EQ(registry_->GetHost("web-1")->previous_aggregator_ids_size(), 1);
  EXPECT_TRUE(registry_->AggregatorsOfHost("nope").empty());
}

}  // namespace
}  // namespace andon::controller

namespace andon::controller {
namespace {

TEST_F(RegistryTest, LabelsSetThroughTheApiHoldAcrossRestartsAndReRegistrations) {
  ASSERT_TRUE(
      registry_->RegisterHost(MakeHostInfo("web-1", {{"role", "web"}, {"rack", "r1"}}), "inst-a")
          .ok());
  auto changed = registry_->SetHostLabels("web-1", {{"tier", "canary"}, {"role", "db"}}, {"rack"});
  ASSERT_TRUE(changed.ok()) << changed.status();
  auto labels = [](const v1::Host& h) {
    return std::map<std::string, std::string>(h.info().labels().begin(), h.info().labels().end());
  };
  const std::map<std::string, std::string> want = {{"role", "db"}, {"tier", "canary"}};
  EXPECT_EQ(labels(*changed), want);
  Reopen();
  EXPECT_EQ(labels(*registry_->GetHost("web-1")), want);
  // The agent restarts and reports its own labels again: the overrides win.
  auto again =
      registry_->RegisterHost(MakeHostInfo("web-1", {{"role", "web"}, {"rack", "r1"}}), "inst-b");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(labels(*again), want);
  EXPECT_EQ(registry_->ListHosts({{"tier", "canary"}}).size(), 1u);
}

TEST_F(RegistryTest, BadLabelChangesAreRefusedAndChangeNothing) {
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1", {{"role", "web"}}), "inst-a").ok());
  auto message = [&](const std::map<std::string, std::string>& set,
                     const std::vector<std::string>& remove) {
    auto r = registry_->SetHostLabels("web-1", set, remove);
    EXPECT_FALSE(r.ok());
    return std::string(r.status().message());
  };
  EXPECT_THAT(message({{"host", "x"}}, {}), ::testing::HasSubstr("is the host id"));
  EXPECT_THAT(message({{"9bad", "x"}}, {}), ::testing::HasSubstr("is invalid"));
  EXPECT_THAT(message({{"role", ""}}, {}), ::testing::HasSubstr("role-"));
  EXPECT_THAT(message({{"role", "db"}}, {"role"}), ::testing::HasSubstr("both set and removed"));
  EXPECT_THAT(message({}, {}), ::testing::HasSubstr("no labels"));
  EXPECT_EQ(registry_->SetHostLabels("nope", {{"a", "b"}}, {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetHost("web-1")->info().labels().at("role"), "web");
}

}  // namespace
}  // namespace andon::controller

namespace andon::controller {
namespace {

TEST(RegistryHeartbeatTest, IntervalGrowsWithTheFleetAndStalenessFollowsIt) {
  TempDir dir;
  FakeClock clock{absl::FromUnixSeconds(1700000000)};
  auto store = OpenRocksDbStore(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  auto registry = Registry::Open(store->get(), &clock, {.max_heartbeats_per_second = 10});
  ASSERT_TRUE(registry.ok()) << registry.status();
  Registry& r = **registry;
  EXPECT_EQ(r.HeartbeatInterval(), kMinHeartbeatInterval) << "an empty fleet";
  for (int i = 0; i < 25; ++i) {
    const std::string id = "web-" + std::to_string(i);
    ASSERT_TRUE(r.RegisterHost(MakeHostInfo(id), "inst-" + std::to_string(i)).ok());
  }
  // 25 hosts at 10 heartbeats a second: every 3 s (2.5 rounded up).
  EXPECT_EQ(r.HeartbeatInterval(), absl::Seconds(3));
  EXPECT_EQ(r.StaleAfter(), absl::Seconds(9));
  ASSERT_TRUE(r.SetConnected("web-0", "inst-0", true).ok());
  clock.Advance(absl::Seconds(8));
  EXPECT_EQ(r.GetHost("web-0")->state(), v1::HOST_UP) << "within three intervals";
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(r.GetHost("web-0")->state(), v1::HOST_STALE);
  ASSERT_TRUE(r.RecordHeartbeat("web-0", "inst-0", v1::Heartbeat()).ok());
  EXPECT_EQ(r.GetHost("web-0")->state(), v1::HOST_UP);

  for (int i = 25; i < 500; ++i) {
    const std::string id = "web-" + std::to_string(i);
    ASSERT_TRUE(r.RegisterHost(MakeHostInfo(id), "inst-" + std::to_string(i)).ok());
  }
  EXPECT_EQ(r.HeartbeatInterval(), kMaxHeartbeatInterval) << "capped";
}

}  // namespace
}  // namespace andon::controller
