#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "andon/v1/agent.grpc.pb.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "bench/fleet_sim/sim_events.h"
#include "common/backoff.h"

namespace andon::bench {

struct SimAgentOptions {
  int index = 0;           // in the simulated fleet; names the host sim-NNNNN
  std::string controller;  // gRPC host:port
  // The real agent's controller retry settings (agent::ControllerClientOptions).
  absl::Duration backoff_initial, backoff_max, register_timeout;
  // One batch of `points` one-second windows' points every this often.
  absl::Duration ingest_interval = absl::Seconds(5);
};

class ControlStream;
class IngestStream;

// One simulated agent over real gRPC, with its own TCP connections to the
// controller and to its leaf: it registers with host facts and labels
// (retrying with the real agent's jittered backoff), holds its control
// stream, heartbeats at the interval the controller gives, applies pushed
// probe sets at once and acknowledges them in a heartbeat, follows
// assignments, and streams a batch of host-metric and syscall points to its
// leaf every ingest interval. Like the real agent's spool, it keeps the
// batches its leaf has not acknowledged (at most kMaxUnacked, dropping the
// oldest) and sends them again, in order, on its next ingest stream; the
// leaf applies each sequence once.
//
// Driven by Tick() from the worker's one timer thread; gRPC's callbacks
// update its state under its mutex. Thread-safe.
class SimAgent {
 public:
  // Two minutes of batches at the default interval.
  static constexpr size_t kMaxUnacked = 24;

  SimAgent(SimAgentOptions options, SimEventSink* events);
  ~SimAgent();  // after Stop() and once Quiet()

  // Starts what is due at `now`: a registration, a heartbeat, an ingest
  // stream or batch.
  void Tick(absl::Time now);
  // False while nothing can be due before the time the last Tick() found:
  // the timer thread skips the agent without taking its lock.
  bool Due(int64_t now_unix_ns) const {
    return now_unix_ns >= wake_ns_.load(std::memory_order_relaxed);
  }
  // Report the next acknowledged ingest batch (kStreaming).
  void Mark();
  // Cancels every call; Quiet() turns true once they have all ended.
  void Stop();
  bool Quiet() const;

 private:
  friend class ControlStream;
  friend class IngestStream;

  v1::RegisterRequest Hello() const;
  void SetProbes(const v1::ProbeSet& probes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Heartbeat MakeHeartbeat() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::IngestBatch MakeBatch(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new ingest stream, made the agent's; the caller starts it, then sends
  // `resend` (the unacknowledged batches) on it before anything newer.
  std::shared_ptr<IngestStream> NewIngestLocked(absl::Time now,
                                                std::vector<v1::IngestBatch>* resend)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartRegister();
  void OnRegisterDone(const grpc::Status& status, const v1::RegisterResponse& response);

  // From the streams' callbacks.
  void OnProbes(ControlStream* stream, const v1::ProbeSet& probes);
  void OnAssignment(const v1::AggregatorRef& aggregator);
  void OnHeartbeatInterval(uint32_t ms);
  void OnControlDone(ControlStream* stream);
  void OnIngestAck(IngestStream* stream, uint64_t last_sequence);
  void OnIngestDone(IngestStream* stream);

  const SimAgentOptions options_;
  SimEventSink* const events_;
  const std::string host_id_;
  const std::string instance_id_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;  // register calls and streams not yet done
  const std::shared_ptr<grpc::Channel> control_channel_;
  const std::unique_ptr<v1::AgentControl::Stub> control_stub_;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  bool registering_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_register_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::ClientContext> register_context_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ControlStream> control_ ABSL_GUARDED_BY(mu_);
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_) = absl::Seconds(1);
  absl::Time next_heartbeat_ ABSL_GUARDED_BY(mu_);
  // Of the probe set applied: its version and its probes' keys (what a
  // heartbeat reports).
  uint64_t probes_version_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> probe_keys_ ABSL_GUARDED_BY(mu_);

  std::string leaf_address_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::Channel> ingest_channel_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<v1::Ingest::Stub> ingest_stub_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<IngestStream> ingest_ ABSL_GUARDED_BY(mu_);
  absl::Time next_ingest_open_ ABSL_GUARDED_BY(mu_);
  // Told that the leaf is up: the attempt in flight, if it fails, is
  // followed at once by another.
  bool retry_now_ ABSL_GUARDED_BY(mu_) = false;
  Backoff ingest_backoff_ ABSL_GUARDED_BY(mu_);
  absl::Time next_batch_ ABSL_GUARDED_BY(mu_);
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<v1::IngestBatch> unacked_ ABSL_GUARDED_BY(mu_);  // in sequence order
  bool marked_ ABSL_GUARDED_BY(mu_) = false;
  // When Tick() next has something to do; 0 (now) after any callback
  // changed the state. Written under mu_.
  std::atomic<int64_t> wake_ns_{0};
};

}  // namespace andon::bench
