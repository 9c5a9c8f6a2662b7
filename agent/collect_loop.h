#pragma once

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agent/agent_metrics.h"
#include "agent/ingest_client.h"
#include "agent/probe.h"
#include "agent/window.h"
#include "common/clock.h"

namespace andon::agent {

// The agent's heartbeat of data: at every tick boundary (each window, at most
// a second apart, aligned to the wall clock) it collects every probe into the
// window accumulator and hands the windows that just closed to the ingest
// client. Probes and the accumulator are only touched from this loop's thread.
class CollectLoop {
 public:
  // Does not own its arguments; they must outlive the loop.
  CollectLoop(std::vector<Probe*> probes, WindowAccumulator* accumulator, IngestClient* ingest,
              AgentMetrics& metrics, Clock* clock);
  ~CollectLoop();
  CollectLoop(const CollectLoop&) = delete;
  CollectLoop& operator=(const CollectLoop&) = delete;

  void Start();
  // Returns after the current tick, if any, finishes.
  void Stop();

  // One collection at `boundary`: deltas read now are attributed to the
  // window ending at `boundary`, and every window ending by then is flushed.
  // Exposed for tests.
  void Tick(absl::Time boundary);

  // The period between ticks: the window, capped at one second.
  absl::Duration tick() const { return tick_; }

 private:
  void Run();
  void UpdateProbeMetrics();

  const std::vector<Probe*> probes_;
  WindowAccumulator* const accumulator_;
  IngestClient* const ingest_;
  AgentMetrics& metrics_;
  Clock* const clock_;
  const absl::Duration tick_;
  std::map<std::string, v1::ProbeStatus> last_status_;  // for metric deltas
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace andon::agent
