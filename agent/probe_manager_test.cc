#include "agent/probe_manager.h"

#include <atomic>

#include "agent/window.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

// Counts how many probes were created and stopped; fails to attach when its
// key starts with "bad".
struct Census {
  std::atomic<int> created{0};
  std::atomic<int> stopped{0};
};

class FakeProbe final : public Probe {
 public:
  FakeProbe(std::string key, Census* census) : Probe(std::move(key)), census_(census) {
    census_->created++;
  }
  std::vector<v1::MetricInfo> Metrics() const override {
    v1::MetricInfo m;
    m.set_name(name());
    return {m};
  }

 protected:
  absl::Status InitImpl() override {
    if (name().rfind("bad", 0) == 0) {
      return absl::NotFoundError("uprobe /bin/x:nosuch: symbol not found");
    }
    SetAttachPoint("fake:" + name());
    return absl::OkStatus();
  }
  absl::Status CollectImpl(absl::Time, WindowAccumulator&) override { return absl::OkStatus(); }
  void StopImpl() override { census_->stopped++; }

 private:
  Census* census_;
};

v1::ProbeInstance Instance(const std::string& key, uint32_t hz = 0) {
  v1::ProbeInstance i;
  i.set_key(key);
  i.mutable_builtin()->set_name(key);
  if (hz > 0) i.mutable_builtin()->mutable_profile()->set_frequency_hz(hz);
  return i;
}

class ProbeManagerTest : public ::testing::Test {
 protected:
  ProbeManager manager_{[this](const v1::ProbeInstance& i)
                            -> absl::StatusOr<std::unique_ptr<Probe>> {
                          if (i.key() == "unknown") return absl::NotFoundError("no such probe");
                          return std::make_unique<FakeProbe>(i.key(), &census_);
                        },
                        &clock_, absl::Seconds(60)};
  Census census_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};

  void Apply(uint64_t version, std::vector<v1::ProbeInstance> probes) {
    v1::ProbeSet set;
    set.set_version(version);
    for (auto& p : probes) *set.add_probes() = std::move(p);
    manager_.SetDesired(set);
    manager_.Reconcile();
  }
  const v1::ProbeState* State(const std::string& key, std::vector<v1::ProbeState>& states) {
    states = manager_.States();
    for (const auto& s : states) {
      if (s.key() == key) return &s;
    }
    return nullptr;
  }
};

TEST_F(ProbeManagerTest, AppliesOnlyTheDifference) {
  Apply(1, {Instance("syscalls"), Instance("profile", 49)});
  EXPECT_EQ(manager_.AppliedVersion(), 1u);
  EXPECT_EQ(census_.created, 2);
  std::vector<v1::ProbeState> states;
  ASSERT_NE(State("profile", states), nullptr);
  EXPECT_EQ(State("profile", states)->state(), v1::ProbeState::ATTACHED);
  EXPECT_EQ(State("profile", states)->attach_point(), "fake:profile");

  // syscalls unchanged (only its configs differ), profile changed, tcp new.
  v1::ProbeInstance same = Instance("syscalls");
  same.add_configs("another");
  Apply(2, {same, Instance("profile", 99), Instance("tcp")});
  EXPECT_EQ(manager_.AppliedVersion(), 2u);
  EXPECT_EQ(census_.created, 4) << "profile re-created, tcp created, syscalls untouched";
  EXPECT_EQ(census_.stopped, 1) << "the old profile was detached";

  Apply(3, {Instance("tcp")});
  EXPECT_EQ(census_.stopped, 3);
  EXPECT_EQ(manager_.States().size(), 1u);
  EXPECT_EQ(manager_.Metrics().size(), 1u);
}

TEST_F(ProbeManagerTest, AFailedProbeIsReportedAndTheOthersRun) {
  Apply(5, {Instance("bad_uprobe"), Instance("unknown"), Instance("exec")});
  std::vector<v1::ProbeState> states;
  ASSERT_NE(State("bad_uprobe", states), nullptr);
  EXPECT_EQ(State("bad_uprobe", states)->state(), v1::ProbeState::FAILED);
  EXPECT_EQ(State("bad_uprobe", states)->message(), "uprobe /bin/x:nosuch: symbol not found");
  EXPECT_EQ(State("unknown", states)->state(), v1::ProbeState::FAILED);
  EXPECT_EQ(State("unknown", states)->message(), "no such probe");
  EXPECT_EQ(State("exec", states)->state(), v1::ProbeState::ATTACHED);
  EXPECT_EQ(manager_.AppliedVersion(), 5u);

  // Retried after the retry period, not before.
  const int created = census_.created;
  manager_.Reconcile();
  EXPECT_EQ(census_.created, created);
  clock_.Advance(absl::Seconds(61));
  manager_.Reconcile();
  EXPECT_EQ(census_.created, created + 1);
}

}  // namespace
}  // namespace andon::agent
