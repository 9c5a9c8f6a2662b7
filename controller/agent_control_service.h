#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/agent.grpc.pb.h"
#include "common/server_queues.h"
#include "controller/controller_metrics.h"
#include "controller/probes/apply_tracker.h"
#include "controller/probes/probe_configs.h"
#include "controller/registry.h"

namespace andon::controller {

// gRPC transport for agents. Register (callback API) delegates to the
// Registry and returns the host's aggregator; Control keeps one
// bidirectional stream per host, whose first message must be `hello`, and
// through which assignment changes are pushed by PushAssignmentChanges().
// Control is served on the service's own completion queues (ServerQueues):
// one stream per host of the fleet would otherwise all go through gRPC's one
// callback queue of the process.
// Thread-safe. Streams unregister themselves when they end; the server must
// be shut down (ending every stream) before the service is destroyed.
// Hosts moved to another aggregator per PushAssignmentChanges() call (one a
// second): a leaf's share of a 10,000-host fleet moves within seconds, and
// no leaf takes more than this many new streams a second from moves.
inline constexpr size_t kMaxMovesPerPush = 500;

// Completion queues (each with its thread) that serve the Control streams.
inline constexpr int kDefaultControlQueues = 4;

class AgentControlService final
    : public v1::AgentControl::WithCallbackMethod_Register<
          v1::AgentControl::WithAsyncMethod_Control<v1::AgentControl::Service>>,
      public QueuedService {
 public:
  // `registry`, `probes` and `metrics` must outlive the service.
  AgentControlService(Registry* registry, const ProbeConfigs* probes, ControllerMetrics* metrics,
                      int control_queues = kDefaultControlQueues)
      : registry_(registry), probes_(probes), metrics_(metrics), queues_(control_queues) {}
  ~AgentControlService() override { StopServing(); }

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const v1::RegisterRequest* request,
                                     v1::RegisterResponse* response) override;

  // QueuedService (StartGrpcServer calls these).
  void AddQueues(grpc::ServerBuilder* builder) override { queues_.AddTo(builder); }
  void StartQueues() override;
  // After the server's Shutdown(), which ends every stream: waits until
  // each has let go, then stops the queues. Idempotent; the destructor
  // calls it too.
  void StopServing() { queues_.Stop(); }

  // Recomputes every connected host's aggregator from the live aggregators
  // and pushes a ControlMessage.assignment to each host whose aggregator
  // changed, at most `max_moves` per call so that a leaf joining or leaving
  // does not storm the others (the rest move at the next calls). Does
  // nothing while no aggregator is live (hosts keep theirs), or when the map
  // is the one every open stream was placed by. Called periodically (about
  // every second) by the owner. Returns the hosts moved.
  size_t PushAssignmentChanges(size_t max_moves = kMaxMovesPerPush);

  // Tells the agents whose heartbeat interval is off by a factor of two or
  // more from Registry::HeartbeatInterval() the interval now. Called
  // periodically by the owner; returns how many it told.
  size_t PushHeartbeatInterval();

  // Recomputes every connected host's probe set and pushes it to the hosts
  // whose set changed (by content; a version bump alone is not pushed).
  // Called after every change of the probe configurations.
  void PushProbeChanges();

  // How the connected hosts answered their probe sets, per configuration:
  // fed by every push and heartbeat, read by probe status requests.
  const ApplyTracker& applied() const { return applied_; }

  // Sends `tail` to the connected hosts `target` selects; returns how many.
  uint32_t SendTail(const v1::TargetSelector& target, const v1::EventTailRequest& tail);
  // Where events that agents send go (optional; set before serving).
  void set_event_sink(std::function<void(const std::string&, const v1::EventBatch&)> sink) {
    event_sink_ = std::move(sink);
  }

  // Control streams open now (after their hello).
  size_t OpenStreams() const;

 private:
  class ControlStream;

  // Marks the host connected and makes `stream` the host's (a newer stream
  // of the same host replaces an older one); `aggregator_id` is what the
  // agent was told last. Fails as Registry::SetConnected does. Both steps
  // happen under mu_, so an older stream's Detach cannot slip between them
  // and mark a connected host disconnected.
  absl::Status Attach(const std::string& host_id, const std::string& instance_id,
                      const std::string& aggregator_id, ControlStream* stream);
  // Forgets `stream`; if it was still the host's current stream, marks the
  // host disconnected (under mu_, for the same reason).
  void Detach(const std::string& host_id, const std::string& instance_id, ControlStream* stream);

  // Sends `probes` on `stream` if it differs from what the stream was last
  // sent (always when `force`).
  void PushProbes(const std::string& host_id, ControlStream* stream, const HostProbes& probes,
                  bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `probes` (`fingerprint` being of its content) must be sent on
  // `stream`: it differs from what the stream was last sent, or `force`.
  // If so, records it as the stream's set; the caller sends it (PushProbes
  // at once, the walk after releasing mu_) and tells applied_.
  bool ProbesDue(ControlStream* stream, const HostProbes& probes, uint64_t fingerprint, bool force)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Registry* const registry_;
  const ProbeConfigs* const probes_;
  std::function<void(const std::string&, const v1::EventBatch&)> event_sink_;
  ControllerMetrics* const metrics_;
  ApplyTracker applied_;
  ServerQueues queues_;

  absl::Mutex walk_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one PushProbeChanges() at a time
  mutable absl::Mutex mu_;
  // The host's current stream (which detaches itself as it ends).
  std::map<std::string, std::shared_ptr<ControlStream>> streams_ ABSL_GUARDED_BY(mu_);
  // The shard map every stream was last placed by, and whether streams
  // attached (or moves were cut short) since: PushAssignmentChanges walks
  // the streams only then, not every second.
  uint64_t placed_by_ ABSL_GUARDED_BY(mu_) = 0;
  bool placement_dirty_ ABSL_GUARDED_BY(mu_) = true;
  // The heartbeat interval every stream was last brought near.
  absl::Duration interval_walked_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace andon::controller
