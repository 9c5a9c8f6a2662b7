#include "agent/probe.h"

#include "agent/window.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

// A probe whose hooks succeed or fail on demand and count their calls.
class FakeProbe final : public Probe {
 public:
  FakeProbe() : Probe("fake") {}
  std::vector<v1::MetricInfo> Metrics() const override { return {}; }
  absl::Status init_result = absl::OkStatus();
  absl::Status collect_result = absl::OkStatus();
  int inits = 0, collects = 0, stops = 0;

 protected:
  absl::Status InitImpl() override {
    ++inits;
    return init_result;
  }
  absl::Status CollectImpl(absl::Time, WindowAccumulator&) override {
    ++collects;
    AddEvents(3);
    SetDrops(1);
    return collect_result;
  }
  void StopImpl() override { ++stops; }
};

WindowAccumulator Acc() { return WindowAccumulator(absl::Seconds(1), {}); }

TEST(ProbeTest, RunsCollectsAndStops) {
  FakeProbe p;
  WindowAccumulator acc = Acc();
  ASSERT_TRUE(p.Init().ok());
  EXPECT_EQ(p.status().state(), v1::ProbeState::ATTACHED);
  ASSERT_TRUE(p.Collect(absl::Now(), acc).ok());
  EXPECT_EQ(p.status().events(), 3u);
  EXPECT_EQ(p.status().drops(), 1u);
  p.Stop();
  p.Stop();
  EXPECT_EQ(p.stops, 1);
  EXPECT_EQ(p.status().state(), v1::ProbeState::STOPPED);
  ASSERT_TRUE(p.Collect(absl::Now(), acc).ok());
  EXPECT_EQ(p.collects, 1) << "no collection after Stop";
}

TEST(ProbeTest, FailedInitReportsWhyAndReleases) {
  FakeProbe p;
  p.init_result = absl::PermissionDeniedError("loading into the kernel: Operation not permitted");
  EXPECT_TRUE(absl::IsPermissionDenied(p.Init()));
  v1::ProbeState s = p.status();
  EXPECT_EQ(s.state(), v1::ProbeState::FAILED);
  EXPECT_EQ(s.message(), "loading into the kernel: Operation not permitted");
  EXPECT_EQ(p.stops, 1) << "partial init must be released";
  EXPECT_FALSE(p.Init().ok()) << "no second Init";
}

TEST(ProbeTest, FailedCollectStopsTheProbe) {
  FakeProbe p;
  WindowAccumulator acc = Acc();
  ASSERT_TRUE(p.Init().ok());
  p.collect_result = absl::InternalError("map vanished");
  EXPECT_FALSE(p.Collect(absl::Now(), acc).ok());
  EXPECT_EQ(p.status().state(), v1::ProbeState::FAILED);
  EXPECT_EQ(p.stops, 1);
  p.Stop();
  EXPECT_EQ(p.stops, 1) << "already released";
}

}  // namespace
}  // namespace andon::agent
