#include "controller/control_reactor.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace andon::controller {

AgentControlService::ControlReactor* AgentControlService::ControlReactor::Start(
    AgentControlService* service) {
  auto reactor = std::make_shared<ControlReactor>(service);
  reactor->self_ = reactor;
  reactor->StartRead(&reactor->in_);
  return reactor.get();
}

void AgentControlService::ControlReactor::OnReadDone(bool ok) {
  if (!ok) {  // the agent closed its side, went away, or the server is shutting down
    FinishOnce(grpc::Status::OK);
    return;
  }
  absl::Status s = Handle(in_);
  if (!s.ok()) {
    ANDON_LOG(INFO) << "control stream" << (host_id_.empty() ? "" : " of host '") << host_id_
                    << (host_id_.empty() ? "" : "'") << " ended: " << s;
    FinishOnce(ToGrpcStatus(s));
    return;
  }
  StartRead(&in_);
}

absl::Status AgentControlService::ControlReactor::Handle(const v1::AgentMessage& message) {
  if (host_id_.empty()) {
    if (!message.has_hello()) {
      return absl::InvalidArgumentError(
          "the first message on a control stream must be hello (the RegisterRequest)");
    }
    return HandleHello(message.hello());
  }
  if (message.has_hello()) {
    return absl::InvalidArgumentError("hello sent twice on one control stream");
  }
  if (message.has_heartbeat()) {
    ANDON_RETURN_IF_ERROR(
        service_->registry_->RecordHeartbeat(host_id_, instance_id_, message.heartbeat()));
    service_->applied_.Heartbeat(host_id_, message.heartbeat());
    return absl::OkStatus();
  }
  if (message.has_events()) {
    if (service_->event_sink_) service_->event_sink_(host_id_, message.events());
    return absl::OkStatus();
  }
  return absl::OkStatus();  // an empty or newer kind of message: ignore
}

absl::Status AgentControlService::ControlReactor::HandleHello(const v1::RegisterRequest& hello) {
  // Register again: the controller may have restarted since the agent's
  // Register call; for the holding instance this is a no-op refresh.
  ANDON_ASSIGN_OR_RETURN(v1::Host host,
                         service_->registry_->RegisterHost(hello.host(), hello.instance_id()));
  host_id_ = hello.host().host_id();
  instance_id_ = hello.instance_id();
  ANDON_RETURN_IF_ERROR(service_->Attach(host_id_, instance_id_, host.aggregator_id(), this));
  attached_ = true;
  return absl::OkStatus();
}

void AgentControlService::ControlReactor::Push(std::shared_ptr<const v1::ControlMessage> message) {
  const v1::ControlMessage* next = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    if (writing_) {
      // Every kind of control message replaces the state the one before it
      // set (an assignment, the whole probe set, a tail, an interval), so a
      // waiting message is overwritten by a newer one of its kind: the queue
      // holds at most one per kind behind the write in flight, however slow
      // the agent reads.
      for (size_t i = 1; i < out_.size(); ++i) {
        if (out_[i]->msg_case() == message->msg_case()) {
          out_[i] = std::move(message);
          return;
        }
      }
      out_.push_back(std::move(message));
      return;
    }
    out_.push_back(std::move(message));
    writing_ = true;
    next = out_.front().get();
  }
  // Outside mu_: gRPC may run OnWriteDone on this thread before returning.
  StartWrite(next);
}

void AgentControlService::ControlReactor::OnWriteDone(bool ok) {
  const v1::ControlMessage* next = nullptr;
  grpc::Status finish;
  bool do_finish = false;
  {
    absl::MutexLock lock(&mu_);
    out_.pop_front();
    if (finishing_ || !ok) {  // a broken stream: the read chain will see it and finish
      writing_ = false;
      out_.clear();
      do_finish = finish_deferred_;
      finish_deferred_ = false;
      finish = finish_status_;
    } else if (out_.empty()) {
      writing_ = false;
    } else {
      next = out_.front().get();
    }
  }
  if (do_finish) Finish(finish);
  if (next != nullptr) StartWrite(next);
}

void AgentControlService::ControlReactor::FinishOnce(const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    finishing_ = true;
    if (writing_) {  // one operation of a kind at a time: finish after the write
      while (out_.size() > 1) out_.pop_back();
      finish_deferred_ = true;
      finish_status_ = status;
      return;
    }
    out_.clear();
  }
  Finish(status);
}

void AgentControlService::ControlReactor::OnDone() {
  if (attached_) {
    service_->Detach(host_id_, instance_id_, this);
  }
  // Last: may destroy this.
  std::shared_ptr<ControlReactor> self = std::move(self_);
}

}  // namespace andon::controller
