#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/probe_manager.h"
#include "andon/v1/events.pb.h"
#include "common/clock.h"

namespace andon::agent {

// The agent's side of live tails: while the controller's latest tail request
// is in force, Next() hands the probes' new events (of the asked types, at
// most max_per_second per second) to the control stream; otherwise it sends
// nothing, and the probes' rings only keep the recent past. Thread-safe.
class EventTail {
 public:
  EventTail(ProbeManager* probes, Clock* clock) : probes_(probes), clock_(clock) {}

  void Set(const v1::EventTailRequest& request);
  // The events to send now, or nullopt while no tail is on. `since_last` is
  // the time since the previous call (the rate limit's budget).
  std::optional<v1::EventBatch> Next(absl::Duration since_last);

 private:
  ProbeManager* const probes_;
  Clock* const clock_;
  absl::Mutex mu_;
  v1::EventTailRequest request_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::agent
