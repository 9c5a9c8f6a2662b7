#pragma once

// Private to agent_control_service.cc and control_reactor.cc.

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/agent_control_service.h"

namespace andon::controller {

// One agent's Control stream. Reads run as a chain (one read outstanding at a
// time, started from the previous OnReadDone); writes may be queued from any
// thread with Push() and go out one at a time. Lifetime: shared; the stream
// owns itself from Start() until OnDone, after it detached from the
// service, and whoever copied a shared_ptr to it (the service's stream map,
// a walk writing outside the service's lock) keeps it until done.
class AgentControlService::ControlReactor final
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControlMessage>,
      public std::enable_shared_from_this<ControlReactor> {
 public:
  // A new stream for gRPC, reading.
  static ControlReactor* Start(AgentControlService* service);
  explicit ControlReactor(AgentControlService* service) : service_(service) {}

  // Queues `message` for the agent, replacing a waiting message of the same
  // kind (so at most one of each kind waits). Thread-safe; dropped once the
  // stream is finishing. One message may be pushed to many streams.
  void Push(std::shared_ptr<const v1::ControlMessage> message);
  void Push(v1::ControlMessage message) {
    Push(std::make_shared<const v1::ControlMessage>(std::move(message)));
  }

  // The aggregator the agent was last told to use. Guarded by service_->mu_.
  std::string assigned_aggregator_id;
  // What the agent was last sent of its probes: a fingerprint of the set's
  // content and the set's version. Guarded by service_->mu_.
  uint64_t probes_fingerprint = 0;
  uint64_t probes_version = 0;
  // The host's labels the agent was last sent, as LabelsKey() makes them.
  // Guarded by service_->mu_.
  std::string labels_key;
  // The heartbeat interval the agent was last told. Guarded by service_->mu_.
  absl::Duration heartbeat_interval = absl::Seconds(1);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Returns the status to end the stream with, or OK to keep reading.
  absl::Status Handle(const v1::AgentMessage& message);
  absl::Status HandleHello(const v1::RegisterRequest& hello);
  // Finishes the stream once, after any write in flight completes.
  void FinishOnce(const grpc::Status& status);

  AgentControlService* const service_;
  std::shared_ptr<ControlReactor> self_;  // from Start() until OnDone

  // Touched only by the read chain, and by OnDone after it ends.
  v1::AgentMessage in_;
  std::string host_id_;
  std::string instance_id_;
  bool attached_ = false;

  absl::Mutex mu_;
  // The front is in flight while writing_.
  std::deque<std::shared_ptr<const v1::ControlMessage>> out_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_deferred_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::controller
