#pragma once

// Private to agent_control_service.cc and control_stream.cc.

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/server_queues.h"
#include "controller/agent_control_service.h"

namespace andon::controller {

// One agent's Control stream, served on one of the service's completion
// queues: every completion of the stream runs on that queue's thread, one
// at a time. Reads run as a chain (one read outstanding, started from the
// previous one's completion); writes may be queued from any thread with
// Push() and go out one at a time.
//
// Lifetime: shared. The stream holds itself from Request() until gRPC has
// both finished the call and told it done (or refused the request at
// shutdown); then it detaches from the service. Whoever copied a shared_ptr
// to it (the service's stream map, a walk writing outside the service's
// lock) keeps it a while longer, and a Push() then is dropped.
class AgentControlService::ControlStream final
    : public std::enable_shared_from_this<ControlStream> {
 public:
  // Asks gRPC for the next Control call on `queue`.
  static void Request(AgentControlService* service, grpc::ServerCompletionQueue* queue);
  ControlStream(AgentControlService* service, grpc::ServerCompletionQueue* queue)
      : service_(service), queue_(queue) {}

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

 private:
  using Op = MemberTag<ControlStream>;

  void OnRequested(bool ok);
  void OnReadDone(bool ok);
  void OnWriteDone(bool ok);
  // Its Finish, or gRPC's word that it is done: after both, detaches and
  // lets go of itself.
  void OnEnding(bool ok);
  // Lets go of itself (last: may destroy this) and counts the stream gone.
  void Release();

  // Returns the status to end the stream with, or OK to keep reading.
  absl::Status Handle(const v1::AgentMessage& message);
  absl::Status HandleHello(const v1::RegisterRequest& hello);
  // Finishes the stream once, after any write in flight completes.
  void FinishOnce(const grpc::Status& status);
  void StartRead() { stream_.Read(&in_, &read_done_); }

  AgentControlService* const service_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<v1::ControlMessage, v1::AgentMessage> stream_{&context_};
  Op requested_{this, &ControlStream::OnRequested};
  Op read_done_{this, &ControlStream::OnReadDone};
  Op write_done_{this, &ControlStream::OnWriteDone};
  Op finished_{this, &ControlStream::OnEnding};
  Op call_done_{this, &ControlStream::OnEnding};
  CallEndings endings_;
  std::shared_ptr<ControlStream> self_;  // from Request() until released

  // Touched only by the read chain, and at release after it ends.
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
