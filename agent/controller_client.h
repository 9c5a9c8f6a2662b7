#pragma once

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/agent_metrics.h"
#include "andon/v1/agent.grpc.pb.h"
#include "common/clock.h"
#include "common/stop_signal.h"

namespace andon::agent {

struct ControllerClientOptions {
  std::string address;  // controller gRPC host:port
  v1::HostInfo host;
  absl::Duration backoff_initial = absl::Seconds(1);
  absl::Duration backoff_max = absl::Seconds(30);
  // One registration waits this long for the controller, through gRPC's own
  // (jittered, at most 5 s) reconnect backoff: an agent whose controller is
  // restarting waits for it instead of failing at once and backing off
  // further at every failure, and a controller under a reconnect storm gets
  // time to answer instead of being asked again.
  absl::Duration register_timeout = absl::Seconds(20);
  // Used until the controller says otherwise in RegisterResponse.
  absl::Duration default_heartbeat = absl::Seconds(5);
};

// What the client needs from, and tells, the rest of the agent. Called from
// the client's thread; none may block for long.
struct ControllerCallbacks {
  std::function<void(const v1::AggregatorRef&)> on_assignment;
  // The controller's desired probe set for this host (on registration and
  // whenever it changes).
  std::function<void(const v1::ProbeSet&)> on_probes;
  // The host's labels as the controller holds them (on registration and
  // whenever they change).
  std::function<void(const v1::HostLabels&)> on_host_labels;
  std::function<std::vector<v1::ProbeState>()> probe_statuses;
  // The version of the probe set the agent runs now.
  std::function<uint64_t()> applied_probe_version;
  std::function<v1::AgentStats()> agent_stats;
  // A live tail asks for events; events() returns what to send now (called
  // once per heartbeat; nothing while no tail is on).
  std::function<void(const v1::EventTailRequest&)> on_tail;
  std::function<std::optional<v1::EventBatch>()> events;
  // The controller refused this agent for good (ALREADY_EXISTS: another live
  // agent holds the host id; INVALID_ARGUMENT: bad host info). The client
  // has stopped trying; the agent should exit non-zero.
  std::function<void(const absl::Status&)> on_fatal;
};

// Keeps this agent registered with the controller: Register (retried with
// jittered backoff while the controller is unreachable), then the Control
// stream (hello first, a heartbeat every heartbeat_interval_ms, which the
// controller may change on the stream, assignments
// forwarded to on_assignment). When the stream breaks it re-registers with
// backoff. Each process has a random instance_id so the controller can tell
// our reconnects from a second agent claiming the same host id.
// Thread-safe; runs on its own thread between Start() and Stop().
class ControllerClient {
 public:
  ControllerClient(ControllerClientOptions options, ControllerCallbacks callbacks,
                   AgentMetrics& metrics, Clock* clock);
  ~ControllerClient();
  ControllerClient(const ControllerClient&) = delete;
  ControllerClient& operator=(const ControllerClient&) = delete;

  void Start();
  // Cancels any RPC in flight and joins; prompt even mid-backoff.
  void Stop();

  // Sends a heartbeat at once instead of at the next interval, so that the
  // controller learns without delay that a new probe set is applied. A no-op
  // while no control stream is open. Thread-safe.
  void ReportNow() { stop_.Wake(); }

  const std::string& instance_id() const { return instance_id_; }
  bool connected() const;
  // Registrations that failed so far (the controller unreachable or
  // refusing), and whether the client gave up for good after a fatal answer.
  int64_t failed_registrations() const;
  bool finished() const;

 private:
  void Run();
  void RunLoop();
  absl::StatusOr<v1::RegisterResponse> RegisterOnce(v1::AgentControl::Stub& stub);
  // Runs one control stream until it breaks or Stop(); returns why it ended.
  absl::Status RunControlStream(v1::AgentControl::Stub& stub);
  void Handle(const v1::ControlMessage& msg);
  v1::AgentMessage MakeHeartbeat() const;

  const ControllerClientOptions options_;
  const ControllerCallbacks callbacks_;
  AgentMetrics& metrics_;
  Clock* const clock_;
  const std::string instance_id_;
  v1::RegisterRequest request_;
  std::thread thread_;

  StopSignal stop_;  // Wake() also tells the heartbeat loop the stream ended

  mutable absl::Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  // As the controller says: in RegisterResponse, then on the control stream.
  absl::Duration heartbeat_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int64_t failed_registrations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::agent
