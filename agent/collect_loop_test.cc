#include "agent/collect_loop.h"

#include "gtest/gtest.h"

namespace andon::agent {
namespace {

// Emits `execs{comm="x"} += 2` at every collection.
class TickingProbe final : public Probe {
 public:
  TickingProbe() : Probe("ticking") {}

 protected:
  absl::Status InitImpl() override { return absl::OkStatus(); }
  absl::Status CollectImpl(absl::Time at, WindowAccumulator& acc) override {
    v1::SeriesKey k;
    k.set_metric("execs");
    v1::Label* l = k.add_labels();
    l->set_name("comm");
    l->set_value("x");
    acc.AddCounter(k, 2, at);
    AddEvents(2);
    return absl::OkStatus();
  }
  void StopImpl() override {}

 public:
  std::vector<v1::MetricInfo> Metrics() const override { return {}; }
};

// A manager running one TickingProbe, already attached.
std::unique_ptr<ProbeManager> TickingManager(Clock* clock) {
  auto m = std::make_unique<ProbeManager>(
      [](const v1::ProbeInstance&) -> absl::StatusOr<std::unique_ptr<Probe>> {
        return std::make_unique<TickingProbe>();
      },
      clock);
  v1::ProbeSet set;
  set.set_version(1);
  set.add_probes()->set_key("ticking");
  m->SetDesired(set);
  m->Reconcile();
  return m;
}

TEST(CollectLoopTest, TickAttributesToTheWindowThatJustEndedAndEnqueuesIt) {
  prometheus::Registry registry;
  AgentMetrics metrics(registry);
  FakeClock clock(absl::FromUnixSeconds(1700000000));
  IngestClient ingest({.sender_id = "h1", .sequence_base = 100}, metrics, &clock);
  WindowAccumulator acc(absl::Seconds(1), {});
  std::unique_ptr<ProbeManager> probes = TickingManager(&clock);
  CollectLoop loop(probes.get(), &acc, &ingest, metrics, &clock);
  EXPECT_EQ(loop.tick(), absl::Seconds(1));

  const absl::Time boundary = absl::FromUnixSeconds(1700000001);
  loop.Tick(boundary);
  EXPECT_EQ(ingest.queued(), 1u);
  EXPECT_EQ(ingest.last_enqueued_sequence(), 101u);
  EXPECT_EQ(acc.open_windows(), 0u) << "the window ending at the tick was flushed";
  EXPECT_EQ(metrics.windows_flushed.Value(), 1);
  EXPECT_EQ(metrics.points_flushed.Value(), 1);
  EXPECT_EQ(metrics.probe_events.Add({{"probe", "ticking"}}).Value(), 2);

  loop.Tick(boundary + absl::Seconds(1));
  EXPECT_EQ(ingest.queued(), 2u);
  EXPECT_EQ(metrics.probe_events.Add({{"probe", "ticking"}}).Value(), 4);
}

TEST(CollectLoopTest, LongWindowsAreCollectedEverySecondAndFlushedWhenDone) {
  prometheus::Registry registry;
  AgentMetrics metrics(registry);
  FakeClock clock(absl::FromUnixSeconds(1700000000));
  IngestClient ingest({.sender_id = "h1"}, metrics, &clock);
  WindowAccumulator acc(absl::Seconds(10), {});
  std::unique_ptr<ProbeManager> probes = TickingManager(&clock);
  CollectLoop loop(probes.get(), &acc, &ingest, metrics, &clock);
  EXPECT_EQ(loop.tick(), absl::Seconds(1));
  for (int s = 1; s <= 9; ++s) loop.Tick(absl::FromUnixSeconds(1700000000 + s));
  EXPECT_EQ(ingest.queued(), 0u) << "window still open";
  loop.Tick(absl::FromUnixSeconds(1700000010));
  EXPECT_EQ(ingest.queued(), 1u);
}

TEST(CollectLoopTest, StopCollectsOnceMoreAndFlushesThePartialWindow) {
  prometheus::Registry registry;
  AgentMetrics metrics(registry);
  // Mid-window: the 10 s window [1700000000, 1700000010) is still open.
  FakeClock clock(absl::FromUnixSeconds(1700000003));
  IngestClient ingest({.sender_id = "h1"}, metrics, &clock);
  WindowAccumulator acc(absl::Seconds(10), {});
  std::unique_ptr<ProbeManager> probes = TickingManager(&clock);
  CollectLoop loop(probes.get(), &acc, &ingest, metrics, &clock);
  loop.Start();
  loop.Stop();  // as on SIGTERM
  EXPECT_EQ(acc.open_windows(), 0u) << "the partial window was flushed";
  EXPECT_EQ(ingest.queued(), 1u) << "and handed to the ingest client";
  EXPECT_EQ(metrics.windows_flushed.Value(), 1);
  EXPECT_EQ(metrics.points_flushed.Value(), 1);
  EXPECT_GE(metrics.probe_events.Add({{"probe", "ticking"}}).Value(), 2)
      << "the probe was collected at Stop()";
  loop.Stop();
  EXPECT_EQ(ingest.queued(), 1u) << "a second Stop() sends nothing more";
}

TEST(CollectLoopTest, ALoopNeverStartedSendsNothingOnStop) {
  prometheus::Registry registry;
  AgentMetrics metrics(registry);
  FakeClock clock(absl::FromUnixSeconds(1700000003));
  IngestClient ingest({.sender_id = "h1"}, metrics, &clock);
  WindowAccumulator acc(absl::Seconds(10), {});
  std::unique_ptr<ProbeManager> probes = TickingManager(&clock);
  CollectLoop loop(probes.get(), &acc, &ingest, metrics, &clock);
  loop.Stop();
  EXPECT_EQ(ingest.queued(), 0u);
}

}  // namespace
}  // namespace andon::agent
