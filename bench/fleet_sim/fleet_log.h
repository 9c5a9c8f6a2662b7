#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/fleet_sim/sim_events.h"

namespace andon::bench {

// What the simulator's main process knows of every simulated agent, from
// the workers' events. Thread-safe: the workers' readers Add(), the main
// thread waits and reads.
class FleetLog {
 public:
  struct Agent {
    int64_t first_registered_ns = 0;
    int64_t last_attached_ns = 0;
    int64_t last_streaming_ns = 0;
    std::vector<std::pair<uint64_t, int64_t>> applied;  // (version, when), in order
  };

  explicit FleetLog(int agents) : agents_(agents) {}

  void Add(const ParsedSimEvent& event);

  // Waits until `done` holds over the agents (true) or `timeout` passes.
  bool WaitFor(absl::Duration timeout, const std::function<bool(const std::vector<Agent>&)>& done);
  // Calls `read` with the agents under the lock.
  void Read(const std::function<void(const std::vector<Agent>&)>& read) const;

  uint64_t failed_registrations() const;
  // Failed registrations by gRPC status code.
  std::map<int, uint64_t> failed_registrations_by_code() const;
  uint64_t control_losses() const;
  uint64_t ingest_losses() const;
  // Batches sent again on a new ingest stream, and dropped unacknowledged
  // from a full resend buffer.
  uint64_t resent_batches() const;
  uint64_t dropped_batches() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<Agent> agents_ ABSL_GUARDED_BY(mu_);
  uint64_t failed_registrations_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, uint64_t> failed_by_code_ ABSL_GUARDED_BY(mu_);
  uint64_t control_losses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ingest_losses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resent_batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_batches_ ABSL_GUARDED_BY(mu_) = 0;
};

// Counts of agents for which `has` holds.
int CountAgents(const std::vector<FleetLog::Agent>& agents,
                const std::function<bool(const FleetLog::Agent&)>& has);

// The first time the agent reported applying `version` or a later one, or 0.
int64_t AppliedAt(const FleetLog::Agent& agent, uint64_t version);

}  // namespace andon::bench
