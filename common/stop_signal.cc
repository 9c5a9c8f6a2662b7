#include "common/stop_signal.h"

#include <grpcpp/client_context.h>

namespace andon {

void StopSignal::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  if (in_flight_ != nullptr) in_flight_->TryCancel();
}

bool StopSignal::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void StopSignal::Reset() {
  absl::MutexLock lock(&mu_);
  stopping_ = false;
  woken_ = false;
}

bool StopSignal::SleepFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(this, &StopSignal::Interrupted), d);
  woken_ = false;
  return !stopping_;
}

bool StopSignal::Interrupted() const { return stopping_ || woken_; }

void StopSignal::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

StopSignal::Tracked::Tracked(StopSignal& signal, grpc::ClientContext* context) : signal_(signal) {
  absl::MutexLock lock(&signal_.mu_);
  signal_.in_flight_ = context;
  if (signal_.stopping_) context->TryCancel();
}

StopSignal::Tracked::~Tracked() {
  absl::MutexLock lock(&signal_.mu_);
  signal_.in_flight_ = nullptr;
}

}  // namespace andon
