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

v1::ProbeStatus Probe::status() const {
  v1::ProbeStatus out;
  out.set_name(name_);
  {
    absl::MutexLock lock(&mu_);
    switch (state_) {
      case State::kCreated:
        out.set_state(v1::ProbeStatus::STATE_UNSPECIFIED);
        break;
      case State::kRunning:
        out.set_state(v1::ProbeStatus::RUNNING);
        break;
      case State::kStopped:
        out.set_state(v1::ProbeStatus::STOPPED);
        break;
      case State::kFailed:
        out.set_state(v1::ProbeStatus::FAILED);
        break;
    }
    out.set_message(message_);
  }
  out.set_events(events_.load(std::memory_order_relaxed));
  out.set_drops(drops_.load(std::memory_order_relaxed));
  return out;
}

void Probe::SetState(State state, std::string message) {
  absl::MutexLock lock(&mu_);
  state_ = state;
  message_ = std::move(message);
}

}  // namespace andon::agent
