#include "controller/probes/apply_tracker.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using HostState = v1::ProbeConfigStatus::HostState;

class ApplyTrackerTest : public RegistryTestBase {
 protected:
  void SetUp() override {
    RegistryTestBase::SetUp();
    if (HasFatalFailure()) return;
    auto configs = ProbeConfigs::Open(store_.get(), &clock_, &catalog_);
    ASSERT_TRUE(configs.ok()) << configs.status();
    configs_ = std::move(*configs);
  }

  // Registers and connects the host, and tells the tracker it was pushed its
  // set now.
  void Connect(const std::string& id, std::map<std::string, std::string> labels = {}) {
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo(id, labels), "inst-" + id).ok());
    ASSERT_TRUE(registry_->SetConnected(id, "inst-" + id, true).ok());
    Push(id);
  }
  void Push(const std::string& id) {
    auto labels = registry_->LabelsOf(id);
    ASSERT_TRUE(labels.has_value());
    HostProbes probes = configs_->ForHost(id, *labels);
    tracker_.Pushed(id, probes, probes.set.version());
  }
  // Every open stream was walked at the configurations' version now.
  void PushAll(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) Push(id);
    tracker_.Synced(configs_->version());
  }
  // A heartbeat reporting the current version, every probe of the host's
  // set attached except those in `failed` (key -> message).
  void Answer(const std::string& id, std::map<std::string, std::string> failed = {},
              uint64_t events = 0) {
    auto labels = registry_->LabelsOf(id);
    ASSERT_TRUE(labels.has_value());
    HostProbes probes = configs_->ForHost(id, *labels);
    v1::Heartbeat hb;
    hb.set_applied_config_version(probes.set.version());
    for (const v1::ProbeInstance& inst : probes.set.probes()) {
      v1::ProbeState* p = hb.add_probes();
      p->set_key(inst.key());
      p->set_events(events);
      auto f = failed.find(inst.key());
      if (f == failed.end()) {
        p->set_state(v1::ProbeState::ATTACHED);
      } else {
        p->set_state(v1::ProbeState::FAILED);
        p->set_message(f->second);
      }
    }
    ASSERT_TRUE(registry_->RecordHeartbeat(id, "inst-" + id, hb).ok());
    tracker_.Heartbeat(id, hb);
  }
  v1::ProbeConfigStatus StatusOf(const std::string& name) {
    auto config = configs_->Get(name);
    EXPECT_TRUE(config.ok()) << config.status();
    return tracker_.Status(*config, *registry_);
  }
  v1::ProbeConfig Put(const std::string& name, const std::string& probe,
                      const std::string& selector = "") {
    v1::PutProbeConfigRequest put;
    put.set_name(name);
    put.add_probes()->set_probe(probe);
    put.set_selector(selector);
    auto config = configs_->Put(put, "test");
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : v1::ProbeConfig();
  }

  MetricCatalog catalog_;
  std::unique_ptr<ProbeConfigs> configs_;
  ApplyTracker tracker_;
};

TEST_F(ApplyTrackerTest, HostIsPendingUntilItReportsThePushedVersionThenApplied) {
  Connect("web-1");
  tracker_.Synced(configs_->version());
  v1::ProbeConfigStatus s = StatusOf("default");
  EXPECT_EQ(s.hosts_targeted(), 1u);
  EXPECT_EQ(s.hosts_pending(), 1u);
  EXPECT_EQ(s.hosts_applied(), 0u);

  Answer("web-1");
  s = StatusOf("default");
  EXPECT_EQ(s.hosts_applied(), 1u);
  EXPECT_EQ(s.hosts_pending(), 0u);
  ASSERT_EQ(s.hosts_size(), 1);
  EXPECT_EQ(s.hosts(0).host_id(), "web-1");
  EXPECT_EQ(s.hosts(0).state(), HostState::APPLIED);
  EXPECT_EQ(s.hosts(0).probes_size(), 3) << "the default's three probes, from the registry";
}

TEST_F(ApplyTrackerTest, FailuresAreGroupedByReasonWithExampleHosts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(absl::StrCat("web-", i));
  for (const std::string& id : ids) Connect(id);
  tracker_.Synced(configs_->version());
  for (int i = 0; i < 8; ++i) {
    if (i < 6) {
      Answer(ids[i], {{"syscalls", "no BTF"}});
    } else if (i == 6) {
      Answer(ids[i], {{"exec", "tracepoint missing"}});
    } else {
      Answer(ids[i]);
    }
  }
  v1::ProbeConfigStatus s = StatusOf("default");
  EXPECT_EQ(s.hosts_targeted(), 8u);
  EXPECT_EQ(s.hosts_failed(), 7u);
  EXPECT_EQ(s.hosts_applied(), 1u);
  ASSERT_EQ(s.failures_size(), 2);
  EXPECT_EQ(s.failures(0).reason(), "syscalls: no BTF");
  EXPECT_EQ(s.failures(0).hosts(), 6u);
  EXPECT_EQ(s.failures(0).example_hosts_size(), ApplyTracker::kMaxExampleHosts);
  EXPECT_EQ(s.failures(1).reason(), "exec: tracepoint missing");
  EXPECT_EQ(s.failures(1).hosts(), 1u);
  // Failed hosts are listed first.
  ASSERT_EQ(s.hosts_size(), 8);
  EXPECT_EQ(s.hosts(0).state(), HostState::FAILED);
  EXPECT_EQ(s.hosts(7).state(), HostState::APPLIED);
  EXPECT_EQ(s.hosts(7).host_id(), "web-7");

  // A host that recovers leaves its reason's group.
  Answer(ids[6]);
  s = StatusOf("default");
  EXPECT_EQ(s.hosts_failed(), 6u);
  ASSERT_EQ(s.failures_size(), 1);
}

TEST_F(ApplyTrackerTest, HeartbeatsWithOnlyNewCountersChangeNothing) {
  Connect("web-1");
  tracker_.Synced(configs_->version());
  Answer("web-1", {}, /*events=*/1);
  Answer("web-1", {}, /*events=*/2);
  v1::ProbeConfigStatus s = StatusOf("default");
  EXPECT_EQ(s.hosts_applied(), 1u);
  ASSERT_EQ(s.hosts_size(), 1);
  ASSERT_GT(s.hosts(0).probes_size(), 0);
  EXPECT_EQ(s.hosts(0).probes(0).events(), 2u) << "counters come from the latest heartbeat";
}

TEST_F(ApplyTrackerTest, AChangeNotYetWalkedCountsEveryHostPending) {
  Connect("web-1", {{"role", "web"}});
  Connect("db-1", {{"role", "db"}});
  PushAll({"web-1", "db-1"});
  Answer("web-1");
  Answer("db-1");
  Put("web_tcp", "tcp", "role=web");
  // Put, but the walk has not run: web_tcp has no hosts yet; default's
  // version did not move, so it stays applied.
  EXPECT_EQ(StatusOf("web_tcp").hosts_targeted(), 0u);
  EXPECT_EQ(StatusOf("default").hosts_applied(), 2u);

  PushAll({"web-1", "db-1"});
  v1::ProbeConfigStatus s = StatusOf("web_tcp");
  EXPECT_EQ(s.hosts_targeted(), 1u);
  EXPECT_EQ(s.hosts_pending(), 1u) << "web-1 has not acknowledged the new set";
  Answer("web-1");
  s = StatusOf("web_tcp");
  EXPECT_EQ(s.hosts_applied(), 1u);
  ASSERT_EQ(s.hosts_size(), 1);
  EXPECT_EQ(s.hosts(0).host_id(), "web-1");
  ASSERT_EQ(s.hosts(0).probes_size(), 1);
  EXPECT_EQ(s.hosts(0).probes(0).key(), "tcp");

  // Replaced: until the walk, every targeted host is pending.
  v1::PutProbeConfigRequest replace;
  replace.set_name("web_tcp");
  replace.add_probes()->set_probe("tcp");
  replace.set_selector("role=web");
  replace.set_replace(true);
  replace.mutable_ttl()->set_seconds(3600);
  ASSERT_TRUE(configs_->Put(replace, "test").ok());
  s = StatusOf("web_tcp");
  EXPECT_EQ(s.hosts_targeted(), 1u);
  EXPECT_EQ(s.hosts_pending(), 1u);
  EXPECT_EQ(s.hosts_applied(), 0u);
}

TEST_F(ApplyTrackerTest, ASetPushedForAnotherConfigurationLeavesAHostAppliedForThisOne) {
  Connect("web-1", {{"role", "web"}});
  PushAll({"web-1"});
  Answer("web-1");
  ASSERT_EQ(StatusOf("default").hosts_applied(), 1u);

  // A new configuration reaches the host in a new set: until the host
  // acknowledges it, only the new one waits; the default's probes did not
  // change there, so it stays applied.
  const v1::ProbeConfig web_tcp = Put("web_tcp", "tcp", "role=web");
  PushAll({"web-1"});
  EXPECT_EQ(StatusOf("web_tcp").hosts_pending(), 1u);
  EXPECT_EQ(StatusOf("default").hosts_applied(), 1u);
  EXPECT_EQ(StatusOf("default").hosts_pending(), 0u);

  Answer("web-1");
  EXPECT_EQ(StatusOf("web_tcp").hosts_applied(), 1u);

  // The default changed (a probe more): it waits for the new set again,
  // while web_tcp, unchanged there, stays applied.
  v1::PutProbeConfigRequest grow;
  grow.set_name("default");
  for (const char* probe : {"hostmetrics", "syscalls", "exec", "biolatency"}) {
    grow.add_probes()->set_probe(probe);
  }
  grow.set_replace(true);
  ASSERT_TRUE(configs_->Put(grow, "test").ok());
  PushAll({"web-1"});
  EXPECT_EQ(StatusOf("default").hosts_pending(), 1u);
  EXPECT_EQ(StatusOf("web_tcp").hosts_applied(), 1u);
  Answer("web-1");
  EXPECT_EQ(StatusOf("default").hosts_applied(), 1u);

  // A configuration that no longer targets the host loses it from its tally.
  ASSERT_TRUE(configs_->Delete("web_tcp", 0, "test").ok());
  PushAll({"web-1"});
  EXPECT_EQ(tracker_.Status(web_tcp, *registry_).hosts_targeted(), 0u);
  EXPECT_EQ(StatusOf("default").hosts_targeted(), 1u);
  EXPECT_EQ(StatusOf("default").hosts_applied(), 1u);
}

TEST_F(ApplyTrackerTest, ConflictingConfigurationFailsWithItsReason) {
  Connect("web-1");
  v1::PutProbeConfigRequest put;
  put.set_name("fast_profile");
  v1::ProbeSpec* p = put.add_probes();
  p->set_probe("profile");
  (*p->mutable_params())["frequency_hz"] = "99";
  ASSERT_TRUE(configs_->Put(put, "test").ok());
  put.set_name("slow_profile");
  (*put.mutable_probes(0)->mutable_params())["frequency_hz"] = "19";
  ASSERT_TRUE(configs_->Put(put, "test").ok());
  PushAll({"web-1"});
  Answer("web-1");
  EXPECT_EQ(StatusOf("fast_profile").hosts_applied(), 1u);
  v1::ProbeConfigStatus s = StatusOf("slow_profile");
  EXPECT_EQ(s.hosts_failed(), 1u);
  ASSERT_EQ(s.failures_size(), 1);
  EXPECT_THAT(s.failures(0).reason(), ::testing::HasSubstr("fast_profile"));
}

TEST_F(ApplyTrackerTest, ForgottenHostsLeaveTheTallyAndListingIsBounded) {
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) ids.push_back(absl::StrCat("host-", 1000 + i));
  for (const std::string& id : ids) Connect(id);
  tracker_.Synced(configs_->version());
  for (int i = 0; i < 150; i += 2) Answer(ids[i]);
  v1::ProbeConfigStatus s = StatusOf("default");
  EXPECT_EQ(s.hosts_targeted(), 150u);
  EXPECT_EQ(s.hosts_applied(), 75u);
  EXPECT_EQ(s.hosts_pending(), 75u);
  ASSERT_EQ(s.hosts_size(), static_cast<int>(ApplyTracker::kMaxHostsListed));
  EXPECT_EQ(s.hosts(0).state(), HostState::PENDING);
  EXPECT_EQ(s.hosts(0).host_id(), "host-1001");
  EXPECT_EQ(s.hosts(99).state(), HostState::APPLIED);

  for (const std::string& id : ids) tracker_.Forget(id);
  s = StatusOf("default");
  EXPECT_EQ(s.hosts_targeted(), 0u);
  EXPECT_EQ(s.hosts_size(), 0);
  // A heartbeat after the stream went is ignored.
  Answer(ids[0]);
  EXPECT_EQ(StatusOf("default").hosts_targeted(), 0u);
}

}  // namespace
}  // namespace andon::controller
