#pragma once

#include <atomic>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "andon/v1/probes.pb.h"
#include "andon/v1/types.pb.h"

namespace andon::agent {

class WindowAccumulator;

// A data source in the agent (Pixie Stirling style). The public methods are
// non-virtual and own the life cycle
//   kCreated --Init--> kRunning --Stop--> kStopped
//          \--Init fails--> kFailed      kRunning --Collect fails--> kFailed
// while subclasses implement the protected *Impl() hooks. Each hook is called
// at most in its legal state, so implementations need no state checks;
// StopImpl() is also called after a failed InitImpl() and must release
// whatever a partial InitImpl() acquired.
//
// Thread safety: Init/Collect/Stop are called from one thread (the collect
// loop); status() may be called from any thread (heartbeats).
class Probe {
 public:
  enum class State { kCreated, kRunning, kStopped, kFailed };

  // `name` is the instance's key on this host: the catalog name of a
  // built-in probe, the configuration's name of a generic one.
  explicit Probe(std::string name) : name_(std::move(name)) {}
  virtual ~Probe() = default;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Loads and attaches the probe. On failure the probe is kFailed and the
  // returned status says why (PERMISSION_DENIED when not privileged).
  [[nodiscard]] absl::Status Init();

  // Adds what happened since the previous call to `acc`, attributed to
  // `sample_time`. A no-op unless kRunning; an error moves the probe to kFailed.
  [[nodiscard]] absl::Status Collect(absl::Time sample_time, WindowAccumulator& acc);

  // Detaches and releases kernel objects. Safe in any state, idempotent.
  void Stop();

  const std::string& name() const { return name_; }
  State state() const;
  // The state reported in heartbeats: attached (with the attach point in
  // use), failed (with the reason), stopped; events, drops, budget actions.
  v1::ProbeState status() const;

  // Descriptors of every metric this probe emits (declared to aggregators
  // with the points). Fixed once the probe is constructed.
  virtual std::vector<v1::MetricInfo> Metrics() const = 0;

  // Raw events (exec, exit, tcp_reset, ...) emitted after sequence `after`,
  // oldest first, at most `max`, appended to `out`; returns the sequence of
  // the last event returned (`after` if none). Only the last
  // kMaxRecentEvents are kept; `lost` (if given) gets how many newer than
  // `after` fell off before they were read. Thread-safe.
  uint64_t EventsSince(uint64_t after, size_t max, std::vector<v1::Event>* out,
                       uint64_t* lost = nullptr) const;
  static constexpr size_t kMaxRecentEvents = 1024;

 protected:
  virtual absl::Status InitImpl() = 0;
  virtual absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) = 0;
  virtual void StopImpl() = 0;

  // For subclasses: events observed, and the cumulative count of events lost
  // (map full, ring buffer full).
  void AddEvents(uint64_t n) { events_.fetch_add(n, std::memory_order_relaxed); }
  void SetDrops(uint64_t total) { drops_.store(total, std::memory_order_relaxed); }
  // For subclasses, during InitImpl: the attach point chosen, as the status
  // shows it ("raw_tracepoint:sys_enter", "uprobe:/usr/bin/x:f+0x0").
  void SetAttachPoint(std::string attach_point);
  // For subclasses: the budget folded `series` label sets or skipped
  // `events` events in total so far, and why.
  void SetBudgetActions(uint64_t folded, uint64_t sampled, std::string reason);
  // For subclasses, from any thread: a raw event for live tails.
  void EmitEvent(v1::Event event);

 private:
  void SetState(State state, std::string message);

  const std::string name_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kCreated;
  std::string message_ ABSL_GUARDED_BY(mu_);
  std::string attach_point_ ABSL_GUARDED_BY(mu_);
  uint64_t budget_folded_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t budget_sampled_ ABSL_GUARDED_BY(mu_) = 0;
  std::string budget_reason_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex events_mu_;
  std::deque<std::pair<uint64_t, v1::Event>> recent_events_ ABSL_GUARDED_BY(events_mu_);
  uint64_t event_sequence_ ABSL_GUARDED_BY(events_mu_) = 0;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> drops_{0};
};

}  // namespace andon::agent
