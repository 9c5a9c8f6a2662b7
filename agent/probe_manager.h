#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "andon/v1/probes.pb.h"
#include "common/clock.h"

namespace andon::agent {

// Runs this host's desired probe set, as the controller pushes it. SetDesired
// records a new set (any thread); Reconcile, on the collect loop's thread,
// applies the difference without touching the rest: stops probes that are
// gone, re-creates those whose spec changed, creates and attaches new ones.
// A probe that fails to attach never stops the agent or the others: it is
// reported FAILED with its reason and retried every `retry` while the set
// still asks for it (a binary may be installed later).
//
// Thread safety: SetDesired, States, AppliedVersion and Metrics from any
// thread; Reconcile, Collect and StopAll from one thread (the collect loop).
class ProbeManager {
 public:
  // Creates a probe for an instance; CreateProbe (probe_factory.h) in the
  // agent, something simpler in tests.
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Probe>>(const v1::ProbeInstance&)>;

  ProbeManager(Factory factory, Clock* clock, absl::Duration retry = absl::Seconds(60))
      : factory_(std::move(factory)), clock_(clock), retry_(retry) {}
  ~ProbeManager() { StopAll(); }
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  void SetDesired(v1::ProbeSet set);
  // Called on the Reconcile thread each time a new set has been applied (so
  // that the agent can report it at once). Set before the first Reconcile.
  void set_on_applied(std::function<void()> on_applied) { on_applied_ = std::move(on_applied); }
  // Applies the latest desired set. Cheap when nothing changed.
  void Reconcile();
  // Collects every attached probe into `acc`.
  void Collect(absl::Time sample_time, WindowAccumulator& acc);
  void StopAll();

  // The version of the last set Reconcile applied (0 before the first).
  uint64_t AppliedVersion() const;
  // Every instance of the applied set: attached (and where), or failed (why).
  std::vector<v1::ProbeState> States() const;
  // Descriptors of the metrics the running probes emit.
  std::vector<v1::MetricInfo> Metrics() const;
  // Events of the running probes not returned before (of `types`; all when
  // empty), at most `max`; `lost` gets how many were dropped: beyond `max`,
  // or overrun in a probe's ring before they were read. One reader at a time.
  std::vector<v1::Event> NewEvents(const std::vector<std::string>& types, size_t max,
                                   uint64_t* lost);

  // What the window accumulator's series budget folded so far, per metric;
  // States() reports it on the probes emitting those metrics.
  void SetFolded(std::map<std::string, uint64_t> folded, size_t budget);

  // The probes, for the collect loop's per-probe metrics. Loop thread only.
  std::vector<const Probe*> probes() const;

 private:
  struct Running {
    std::string spec;  // the instance without its configs, serialised
    std::unique_ptr<Probe> probe;
    v1::ProbeState failed;  // set when the factory refused the instance
    absl::Time retry_at = absl::InfiniteFuture();
  };
  // Creates and initialises; failures are kept in `r` for reporting.
  void Start(const v1::ProbeInstance& instance, Running& r);

  const Factory factory_;
  std::function<void()> on_applied_;
  Clock* const clock_;
  const absl::Duration retry_;

  mutable absl::Mutex desired_mu_;
  v1::ProbeSet desired_ ABSL_GUARDED_BY(desired_mu_);
  bool dirty_ ABSL_GUARDED_BY(desired_mu_) = false;

  // Written by the loop thread under mu_; read by others under mu_.
  mutable absl::Mutex mu_;
  std::map<std::string, Running> running_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::ProbeInstance> applied_ ABSL_GUARDED_BY(mu_);
  uint64_t applied_version_ ABSL_GUARDED_BY(mu_) = 0;
  // NewEvents' read position in each probe's event ring.
  std::map<const Probe*, uint64_t> event_cursors_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> folded_ ABSL_GUARDED_BY(mu_);
  size_t series_budget_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::agent
