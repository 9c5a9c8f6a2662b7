#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/agent.pb.h"
#include "andon/v1/probes.pb.h"
#include "controller/probes/probe_configs.h"
#include "controller/registry.h"

namespace andon::controller {

// How the connected hosts answered the probe sets they were pushed, tallied
// per configuration as hosts report, so that a status request reads the
// tally instead of walking the fleet. The agent control service feeds it:
// what each open stream was sent and should run (Pushed), what each
// heartbeat reports (Heartbeat), a stream that went (Forget), and the
// configurations' version once every stream was walked at it (Synced).
//
// A host is pending for a configuration until its heartbeat reports at
// least the version of the set that last changed the configuration's part
// there (its probes, or why it cannot run); then it has applied the
// configuration when every probe of it is attached, and failed when one
// failed or the configuration could not run there (another holds the same
// built-in probe with other parameters). So a set pushed for another
// configuration leaves a host applied for this one. A configuration changed
// since the last walk counts every host it targeted pending, since the
// change has not reached them yet.
//
// Costs: a heartbeat that reports what the one before it did is a hash and a
// lookup; one that changes a verdict, or a push, moves the host only in the
// tallies of the configurations whose verdict changed, so a change of one
// configuration costs the hosts it targets, not hosts times
// configurations. A status request costs its listed hosts, not the fleet.
// Memory is a few hundred bytes per connected host and configuration
// targeting it. Thread-safe.
class ApplyTracker {
 public:
  // `probes`: what the host should run now; `pushed_version`: the version of
  // the last set its stream was sent (which may be older than probes.set
  // when only the version moved).
  void Pushed(const std::string& host_id, const HostProbes& probes, uint64_t pushed_version);
  struct PushedHost {
    const std::string* host_id;
    const HostProbes* probes;  // hosts sharing one are judged against one plan
    uint64_t pushed_version;
  };
  // Pushed() for many hosts under one lock (a walk over the fleet).
  void PushedAll(const std::vector<PushedHost>& hosts);
  // Ignored for hosts not pushed to (or forgotten since).
  void Heartbeat(const std::string& host_id, const v1::Heartbeat& heartbeat);
  void Forget(const std::string& host_id);
  // Every open stream was pushed the configurations at `configs_version`.
  void Synced(uint64_t configs_version);

  // The status of `config` as stored now. At most kMaxHostsListed hosts are
  // listed (failed first, then pending, then applied; by id within each),
  // with their probes' states read from `registry`.
  v1::ProbeConfigStatus Status(const v1::ProbeConfig& config, const Registry& registry) const;

  static constexpr size_t kMaxHostsListed = 100;
  static constexpr int kMaxExampleHosts = 5;

 private:
  using State = v1::ProbeConfigStatus::HostState::State;
  // One configuration as it applies to a host.
  struct ConfigPlan {
    std::string name;
    std::string conflict;           // why it cannot run there; empty if it can
    std::vector<std::string> keys;  // its probes there
  };
  // What a host should run, by configuration; shared by the hosts it fits.
  using Plan = std::vector<ConfigPlan>;
  struct Verdict {
    State state;
    std::string reason;  // for FAILED
    bool operator==(const Verdict& o) const { return state == o.state && reason == o.reason; }
  };
  struct ProbeAnswer {
    std::string key;
    v1::ProbeState::State state;
    std::string message;
  };
  struct HostRecord {
    std::shared_ptr<const Plan> plan;
    uint64_t pushed = 0;
    uint64_t applied = 0;     // from its last heartbeat
    uint64_t answers_fp = 0;  // fingerprint of the probe states it reported
    std::vector<ProbeAnswer> answers;
    // One per plan entry: the pushed version that last changed the entry,
    // and the entry's verdict.
    std::vector<uint64_t> since;
    std::vector<Verdict> verdicts;
  };
  // A configuration's targeted hosts by state (indexed by Rank) and its
  // failed hosts by reason: views of the keys of hosts_, which a host leaves
  // only after it left every tally.
  using HostSet = absl::btree_set<absl::string_view>;
  struct Tally {
    HostSet hosts[3];
    std::map<std::string, HostSet> failures;
  };

  static int Rank(State s);
  static Verdict Judge(const ConfigPlan& plan, uint64_t since, const HostRecord& record);
  std::shared_ptr<const Plan> Intern(const HostProbes& probes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushedLocked(absl::string_view host_id, std::shared_ptr<const Plan> plan,
                    uint64_t pushed_version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Judges every entry of the host's plan anew and moves the host, in the
  // tallies of the entries whose verdict changed (or that left or joined
  // the plan), from its old verdict to its new one. `old_plan` and
  // `old_verdicts` are what the record held before (its plan may be new);
  // `old_index` gives each entry's index in `old_plan` (SIZE_MAX for a new
  // one), null when the plan is the same. `host_id` is the key of hosts_.
  void Rejudge(absl::string_view host_id, HostRecord& record, const Plan* old_plan,
               const std::vector<size_t>* old_index, std::vector<Verdict> old_verdicts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the host's verdicts out of the tallies / puts one in.
  void Withdraw(absl::string_view host_id, const HostRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Leave(absl::string_view host_id, const std::string& config, const Verdict& v)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Join(absl::string_view host_id, const std::string& config, const Verdict& v)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, HostRecord, std::less<>> hosts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Tally, std::less<>> tallies_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::weak_ptr<const Plan>> plans_ ABSL_GUARDED_BY(mu_);
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::controller
