#include "bench/fleet_sim/sim_streams.h"

#include <utility>

#include "bench/fleet_sim/sim_agent.h"

namespace andon::bench {

void ControlStream::Start(std::shared_ptr<ControlStream> self, v1::AgentControl::Stub* stub,
                          const v1::RegisterRequest& hello) {
  self_ = std::move(self);
  stub->async()->Control(&context_, this);
  AddHold();
  {
    absl::MutexLock lock(&mu_);
    *out_.mutable_hello() = hello;
    writing_ = true;
  }
  StartWrite(&out_);
  StartRead(&in_);
  StartCall();
}

void ControlStream::Send(const v1::Heartbeat& heartbeat) {
  {
    absl::MutexLock lock(&mu_);
    if (ended_) return;
    if (writing_) {
      next_.emplace();
      *next_->mutable_heartbeat() = heartbeat;
      return;
    }
    out_.Clear();
    *out_.mutable_heartbeat() = heartbeat;
    writing_ = true;
  }
  StartWrite(&out_);
}

void ControlStream::OnWriteDone(bool ok) {
  bool release = false;
  bool write = false;
  {
    absl::MutexLock lock(&mu_);
    if (!ok || ended_ || !next_) {  // a failed write: the read side sees the end
      writing_ = false;
      next_.reset();
      release = ended_ && !released_;
      released_ = released_ || release;
    } else {
      out_ = std::move(*next_);
      next_.reset();
      write = true;
    }
  }
  if (release) RemoveHold();
  if (write) StartWrite(&out_);
}

void ControlStream::OnReadDone(bool ok) {
  if (!ok) {
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      ended_ = true;
      release = !writing_ && !released_;
      released_ = released_ || release;
    }
    if (release) RemoveHold();  // OnDone follows
    return;
  }
  if (in_.has_probes()) agent_->OnProbes(this, in_.probes());
  if (in_.has_assignment()) agent_->OnAssignment(in_.assignment());
  if (in_.heartbeat_interval_ms() > 0) agent_->OnHeartbeatInterval(in_.heartbeat_interval_ms());
  StartRead(&in_);
}

void ControlStream::OnDone(const grpc::Status& status) {
  std::shared_ptr<ControlStream> self = std::move(self_);  // this dies at return
  agent_->OnControlDone(this);
}

void IngestStream::Start(std::shared_ptr<IngestStream> self, v1::Ingest::Stub* stub) {
  self_ = std::move(self);
  stub->async()->Stream(&context_, this);
  AddHold();
  StartRead(&in_);
  StartCall();
  bool write = false;
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
    if (!writing_ && !broken_ && !waiting_.empty()) {
      TakeLocked(std::move(waiting_.front()));
      waiting_.pop_front();
      writing_ = write = true;
    }
  }
  if (write) StartWrite(&out_);
}

void IngestStream::TakeLocked(v1::IngestBatch batch) {
  out_ = std::move(batch);
  if (numbered_) dict_.Encode(out_);
}

void IngestStream::Send(v1::IngestBatch batch) {
  {
    absl::MutexLock lock(&mu_);
    if (broken_) return;
    if (writing_ || !started_) {
      waiting_.push_back(std::move(batch));
      if (waiting_.size() > kMaxWaiting) waiting_.pop_front();
      return;
    }
    TakeLocked(std::move(batch));
    writing_ = true;
  }
  StartWrite(&out_);
}

void IngestStream::OnWriteDone(bool ok) {
  bool release = false;
  bool write = false;
  {
    absl::MutexLock lock(&mu_);
    if (!ok) broken_ = true;
    if (broken_ || waiting_.empty()) {
      writing_ = false;
      waiting_.clear();
      release = ended_ && !released_;
      released_ = released_ || release;
    } else {
      TakeLocked(std::move(waiting_.front()));
      waiting_.pop_front();
      write = true;
    }
  }
  if (release) RemoveHold();
  if (write) StartWrite(&out_);
}

void IngestStream::OnReadDone(bool ok) {
  if (!ok) {
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      ended_ = broken_ = true;
      release = !writing_ && !released_;
      released_ = released_ || release;
    }
    if (release) RemoveHold();  // OnDone follows
    return;
  }
  if (in_.series_refs()) {
    absl::MutexLock lock(&mu_);
    numbered_ = true;  // as the real agent: series numbered from now on
  }
  agent_->OnIngestAck(this, in_.last_sequence());
  StartRead(&in_);
}

void IngestStream::OnDone(const grpc::Status& status) {
  std::shared_ptr<IngestStream> self = std::move(self_);
  agent_->OnIngestDone(this);
}

}  // namespace andon::bench
