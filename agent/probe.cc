#include "agent/probe.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace andon::agent {

absl::Status Probe::Init() {
  if (state() != State::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat("probe '", name_, "' initialised twice"));
  }
  absl::Status s = InitImpl();
  if (!s.ok()) {
    // Release whatever the partial Init acquired before reporting.
    StopImpl();
    SetState(State::kFailed, std::string(s.message()));
    return s;
  }
  SetState(State::kRunning, "");
  return absl::OkStatus();
}

absl::Status Probe::Collect(absl::Time sample_time, WindowAccumulator& acc) {
  if (state() != State::kRunning) return absl::OkStatus();
  absl::Status s = CollectImpl(sample_time, acc);
  if (!s.ok()) {
    ANDON_LOG(ERROR) << "probe '" << name_ << "' failed: " << s;
    StopImpl();
    SetState(State::kFailed, std::string(s.message()));
  }
  return s;
}

void Probe::Stop() {
  State s = state();
  if (s == State::kRunning) {
    StopImpl();
    SetState(State::kStopped, "");
  } else if (s == State::kCreated) {
    SetState(State::kStopped, "");
  }
}

Probe::State Probe::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

v1::ProbeState Probe::status() const {
  v1::ProbeState out;
  out.set_key(name_);
  {
    absl::MutexLock lock(&mu_);
    switch (state_) {
      case State::kCreated:
        out.set_state(v1::ProbeState::STATE_UNSPECIFIED);
        break;
      case State::kRunning:
        out.set_state(v1::ProbeState::ATTACHED);
        break;
      case State::kStopped:
        out.set_state(v1::ProbeState::STOPPED);
        break;
      case State::kFailed:
        out.set_state(v1::ProbeState::FAILED);
        break;
    }
    out.set_message(message_);
    out.set_attach_point(attach_point_);
    out.set_budget_folded(budget_folded_);
    out.set_budget_sampled(budget_sampled_);
    out.set_budget_reason(budget_reason_);
  }
  out.set_events(events_.load(std::memory_order_relaxed));
  out.set_drops(drops_.load(std::memory_order_relaxed));
  return out;
}

void Probe::SetAttachPoint(std::string attach_point) {
  absl::MutexLock lock(&mu_);
  attach_point_ = std::move(attach_point);
}

void Probe::EmitEvent(v1::Event event) {
  absl::MutexLock lock(&events_mu_);
  recent_events_.emplace_back(++event_sequence_, std::move(event));
  if (recent_events_.size() > kMaxRecentEvents) recent_events_.pop_front();
}

uint64_t Probe::EventsSince(uint64_t after, size_t max, std::vector<v1::Event>* out,
                            uint64_t* lost) const {
  absl::MutexLock lock(&events_mu_);
  if (lost != nullptr) {
    const uint64_t oldest =
        recent_events_.empty() ? event_sequence_ + 1 : recent_events_.front().first;
    *lost = oldest > after + 1 ? oldest - after - 1 : 0;
  }
  uint64_t last = after;
  for (const auto& [seq, event] : recent_events_) {
    if (seq <= after) continue;
    if (max == 0) break;
    out->push_back(event);
    last = seq;
    --max;
  }
  return last;
}

void Probe::SetBudgetActions(uint64_t folded, uint64_t sampled, std::string reason) {
  absl::MutexLock lock(&mu_);
  budget_folded_ = folded;
  budget_sampled_ = sampled;
  budget_reason_ = std::move(reason);
}

void Probe::SetState(State state, std::string message) {
  absl::MutexLock lock(&mu_);
  state_ = state;
  message_ = std::move(message);
}

}  // namespace andon::agent
