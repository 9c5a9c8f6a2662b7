#include "bench/fleet_sim/fleet_log.h"

#include "absl/time/clock.h"

namespace andon::bench {

void FleetLog::Add(const ParsedSimEvent& e) {
  absl::MutexLock lock(&mu_);
  if (e.agent < 0 || static_cast<size_t>(e.agent) >= agents_.size()) return;
  Agent& a = agents_[e.agent];
  switch (e.kind) {
    case SimEvent::kRegistered:
      if (a.first_registered_ns == 0) a.first_registered_ns = e.unix_ns;
      break;
    case SimEvent::kRegisterFailed:
      ++failed_registrations_;
      ++failed_by_code_[static_cast<int>(e.arg)];
      break;
    case SimEvent::kAttached:
      a.last_attached_ns = e.unix_ns;
      break;
    case SimEvent::kControlLost:
      ++control_losses_;
      break;
    case SimEvent::kApplied:
      a.applied.emplace_back(e.arg, e.unix_ns);
      break;
    case SimEvent::kStreaming:
      a.last_streaming_ns = e.unix_ns;
      break;
    case SimEvent::kIngestLost:
      ++ingest_losses_;
      break;
    case SimEvent::kResent:
      resent_batches_ += e.arg;
      break;
    case SimEvent::kSpoolDropped:
      ++dropped_batches_;
      break;
  }
}

bool FleetLog::WaitFor(absl::Duration timeout,
                       const std::function<bool(const std::vector<Agent>&)>& done) {
  // Polled, not a Condition: evaluated at every Add() it would cost a walk
  // of the whole fleet per event. The figures come from the events' own
  // times, so the polling interval does not enter them.
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (done(agents_)) return true;
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

void FleetLog::Read(const std::function<void(const std::vector<Agent>&)>& read) const {
  absl::MutexLock lock(&mu_);
  read(agents_);
}

uint64_t FleetLog::failed_registrations() const {
  absl::MutexLock lock(&mu_);
  return failed_registrations_;
}

std::map<int, uint64_t> FleetLog::failed_registrations_by_code() const {
  absl::MutexLock lock(&mu_);
  return failed_by_code_;
}

uint64_t FleetLog::control_losses() const {
  absl::MutexLock lock(&mu_);
  return control_losses_;
}

uint64_t FleetLog::ingest_losses() const {
  absl::MutexLock lock(&mu_);
  return ingest_losses_;
}

uint64_t FleetLog::resent_batches() const {
  absl::MutexLock lock(&mu_);
  return resent_batches_;
}

uint64_t FleetLog::dropped_batches() const {
  absl::MutexLock lock(&mu_);
  return dropped_batches_;
}

int CountAgents(const std::vector<FleetLog::Agent>& agents,
                const std::function<bool(const FleetLog::Agent&)>& has) {
  int n = 0;
  for (const FleetLog::Agent& a : agents) n += has(a) ? 1 : 0;
  return n;
}

int64_t AppliedAt(const FleetLog::Agent& agent, uint64_t version) {
  for (const auto& [v, at] : agent.applied) {
    if (v >= version) return at;
  }
  return 0;
}

}  // namespace andon::bench
