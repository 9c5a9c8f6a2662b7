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
#include "agent/probe_manager.h"
#include "agent/window.h"
#include "common/clock.h"

namespace andon::agent {

// The agent's heartbeat of data: at every tick boundary (each window, at most
// a second apart, aligned to the wall clock) it collects every probe into the
// window accumulator and hands the windows that just closed to the ingest
// client. Stop() collects once more and flushes every window, the current
// partial one included, so that a shutdown loses nothing already counted.
// Probes and the accumulator are only touched from this loop's thread (and,
// after it has ended, from the thread calling Stop()).
class CollectLoop {
 public:
  // Does not own its arguments; they must outlive the loop. Each tick first
  // lets `probes` apply a newly desired set, then collects it.
  CollectLoop(ProbeManager* probes, WindowAccumulator* accumulator, IngestClient* ingest,
              AgentMetrics& metrics, Clock* clock);
  ~CollectLoop();
  CollectLoop(const CollectLoop&) = delete;
  CollectLoop& operator=(const CollectLoop&) = delete;

  void Start();
  // Ends the loop after the current tick, if any; then, if the loop was
  // started, collects every probe a last time and hands every open window,
  // partial ones included, to the ingest client. Idempotent.
  void Stop();

  // One collection at `boundary`: deltas read now are attributed to the
  // window ending at `boundary`, and every window ending by then is flushed.
  // Exposed for tests.
  void Tick(absl::Time boundary);

  // The period between ticks: the window, capped at one second.
  absl::Duration tick() const { return tick_; }

 private:
  void Run();
  // Collects every probe at `sample_time`, then enqueues the windows ending
  // by `flush_until` (every window if it is absl::InfiniteFuture()).
  void CollectAndEnqueue(absl::Time sample_time, absl::Time flush_until);
  void UpdateProbeMetrics();

  ProbeManager* const probes_;
  WindowAccumulator* const accumulator_;
  IngestClient* const ingest_;
  AgentMetrics& metrics_;
  Clock* const clock_;
  const absl::Duration tick_;
  std::map<std::string, v1::ProbeState> last_status_;  // for metric deltas
  absl::Notification stop_;
  std::thread thread_;
  bool started_ = false;        // Start() was called
  bool final_flushed_ = false;  // Stop() did its last collection
};

}  // namespace andon::agent
