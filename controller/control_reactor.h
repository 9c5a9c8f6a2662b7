#pragma once

// Private to agent_control_service.cc and control_reactor.cc.

#include <atomic>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/agent_control_service.h"

namespace andon::controller {

// One agent's Control stream. Reads run as a chain (one read outstanding at a
// time, started from the previous OnReadDone); writes may be queued from any
// thread with Push() and go out one at a time. Lifetime: reference counted;
// gRPC's reference is dropped in OnDone, after the stream detached from the
// service; whoever drops the last reference deletes it.
class AgentControlService::ControlReactor final
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControlMessage> {
 public:
  explicit ControlReactor(AgentControlService* service);

  // Queues `message` for the agent, replacing a waiting message of the same
  // kind (so at most one of each kind waits). Thread-safe; dropped once the
  // stream is finishing.
  void Push(v1::ControlMessage message);

  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  // The aggregator the agent was last told to use. Guarded by service_->mu_.
  std::string assigned_aggregator_id;
  // What the agent was last sent of its probes: a fingerprint of the set's
  // content and the set's version. Guarded by service_->mu_.
  uint64_t probes_fingerprint = 0;
  uint64_t probes_version = 0;
  // The heartbeat interval the agent was last told. Guarded by service_->mu_.
  absl::Duration heartbeat_interval = absl::Seconds(1);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  ~ControlReactor() override = default;

  // Returns the status to end the stream with, or OK to keep reading.
  absl::Status Handle(const v1::AgentMessage& message);
  absl::Status HandleHello(const v1::RegisterRequest& hello);
  // Finishes the stream once, after any write in flight completes.
  void FinishOnce(const grpc::Status& status);

  AgentControlService* const service_;
  std::atomic<int> refs_{1};

  // Touched only by the read chain, and by OnDone after it ends.
  v1::AgentMessage in_;
  std::string host_id_;
  std::string instance_id_;
  bool attached_ = false;

  absl::Mutex mu_;
  std::deque<v1::ControlMessage> out_ ABSL_GUARDED_BY(mu_);  // front is in flight if writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_deferred_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::controller
