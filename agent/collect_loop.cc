#include "agent/collect_loop.h"

#include <algorithm>
#include <set>

#include "common/process.h"

namespace andon::agent {
namespace {

// Ticks fire this long after a boundary, so that counts incremented just
// before the boundary (and still in flight on other CPUs) are read with it.
constexpr absl::Duration kTickSlack = absl::Milliseconds(5);

}  // namespace

CollectLoop::CollectLoop(ProbeManager* probes, WindowAccumulator* accumulator, IngestClient* ingest,
                         AgentMetrics& metrics, Clock* clock)
    : probes_(probes),
      accumulator_(accumulator),
      ingest_(ingest),
      metrics_(metrics),
      clock_(clock),
      tick_(std::min(accumulator->window(), absl::Seconds(1))) {}

CollectLoop::~CollectLoop() { Stop(); }

void CollectLoop::Start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void CollectLoop::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  if (!started_ || final_flushed_) return;
  final_flushed_ = true;
  // What the probes counted since the last tick belongs to the window open
  // now; send it partial rather than lose it (consumers sum a window's points).
  CollectAndEnqueue(clock_->Now(), absl::InfiniteFuture());
}

void CollectLoop::Run() {
  while (true) {
    absl::Time now = clock_->Now();
    absl::Time boundary = absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), tick_) + tick_;
    if (stop_.WaitForNotificationWithTimeout(boundary + kTickSlack - now)) return;
    Tick(boundary);
  }
}

void CollectLoop::Tick(absl::Time boundary) {
  // Events read now happened (almost all) before the boundary.
  CollectAndEnqueue(boundary - absl::Nanoseconds(1), boundary);
}

void CollectLoop::CollectAndEnqueue(absl::Time sample_time, absl::Time flush_until) {
  if (flush_until != absl::InfiniteFuture()) probes_->Reconcile();
  // A failing probe logs and reports FAILED in heartbeats; the rest go on.
  probes_->Collect(sample_time, *accumulator_);
  std::vector<v1::Point> points = flush_until == absl::InfiniteFuture()
                                      ? accumulator_->FlushAll()
                                      : accumulator_->Flush(flush_until);
  std::set<int64_t> windows;
  for (const v1::Point& p : points) windows.insert(p.window_start_ns());
  metrics_.windows_flushed.Increment(static_cast<double>(windows.size()));
  metrics_.points_flushed.Increment(static_cast<double>(points.size()));
  ingest_->Enqueue(std::move(points), probes_->Metrics());
  if (!accumulator_->folded().empty()) {
    probes_->SetFolded(accumulator_->folded(), accumulator_->series_budget());
  }
  UpdateProbeMetrics();
}

void CollectLoop::UpdateProbeMetrics() {
  ProcessUsage usage = SelfUsage();
  metrics_.cpu_seconds.Set(usage.cpu_seconds);
  metrics_.resident_bytes.Set(static_cast<double>(usage.resident_bytes));
  int attached = 0, failed = 0;
  for (const v1::ProbeState& s : probes_->States()) {
    attached += s.state() == v1::ProbeState::ATTACHED;
    failed += s.state() == v1::ProbeState::FAILED;
  }
  metrics_.probes_attached.Set(attached);
  metrics_.probes_failed.Set(failed);
  for (const Probe* p : probes_->probes()) {
    v1::ProbeState now = p->status();
    v1::ProbeState& last = last_status_[p->name()];
    if (now.events() > last.events()) {
      metrics_.probe_events.Add({{"probe", p->name()}})
          .Increment(static_cast<double>(now.events() - last.events()));
    }
    if (now.drops() > last.drops()) {
      metrics_.probe_drops.Add({{"probe", p->name()}})
          .Increment(static_cast<double>(now.drops() - last.drops()));
    }
    last = std::move(now);
  }
}

}  // namespace andon::agent
