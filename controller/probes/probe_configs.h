#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/probes.pb.h"
#include "common/clock.h"
#include "common/metric_catalog.h"
#include "controller/audit/audit_log.h"
#include "controller/kv_store.h"

namespace andon::controller {

// A host's probes as the configurations ask for them: the set to push, and
// the configurations that could not be honoured on the host (a built-in probe
// already asked for with other parameters by an older configuration).
struct HostProbes {
  v1::ProbeSet set;
  std::map<std::string, std::string> conflicts;  // configuration -> reason
  std::vector<std::string> configs;  // the configurations that pick the host, oldest first
};

// The operator's probe configurations: desired state, versioned and kept in
// the KvStore ("pc/<name>" -> v1::ProbeConfig, "pv" -> the version, and
// "pm/<metric>" -> descriptors of generic probes' metrics, kept after a
// configuration is deleted so that its data stays queryable). Every change
// bumps the version and, given an AuditLog, is recorded there with the
// configuration before and after. A new cluster starts with the configuration
// `default` (hostmetrics, syscalls and exec on every host). Knows nothing of
// gRPC.
// Thread-safe: one mutex guards the copy and serialises writes.
class ProbeConfigs {
 public:
  // Loads the stored configurations (creating `default` in a new store) and
  // declares generic probes' metrics to `catalog`. Changes are recorded in
  // `audit` when it is given. All must outlive this.
  static absl::StatusOr<std::unique_ptr<ProbeConfigs>> Open(KvStore* store, const Clock* clock,
                                                            MetricCatalog* catalog,
                                                            AuditLog* audit = nullptr);

  // Creates or (with replace) updates a configuration, on behalf of `who`.
  // INVALID_ARGUMENT / NOT_FOUND for bad names, probes, parameters,
  // selectors or TTLs; ALREADY_EXISTS for a taken name without replace;
  // NOT_FOUND replacing a missing one; FAILED_PRECONDITION when
  // expected_version is stale or a generic probe's metric would change kind.
  // Nothing changes on failure.
  absl::StatusOr<v1::ProbeConfig> Put(const v1::PutProbeConfigRequest& request,
                                      absl::string_view who);
  // Deletes a configuration on behalf of `who`; returns the new version.
  // NOT_FOUND, FAILED_PRECONDITION for a stale expected_version.
  absl::StatusOr<uint64_t> Delete(absl::string_view name, uint64_t expected_version,
                                  absl::string_view who);
  // Deletes the configurations whose TTL ran out; returns their names.
  std::vector<std::string> ExpireDue();

  absl::StatusOr<v1::ProbeConfig> Get(absl::string_view name) const;
  v1::ListProbeConfigsResponse List() const;
  uint64_t version() const;

  // The probes a host runs: every configuration whose selector picks it,
  // oldest first; a built-in probe asked for by several runs once.
  HostProbes ForHost(absl::string_view host_id,
                     const google::protobuf::Map<std::string, std::string>& labels) const;

  // True when no configuration selects by host id (a `host` matcher or a
  // fraction): then hosts with the same labels run the same probes, and a
  // walk over the fleet computes ForHost once per distinct label set.
  bool SelectsByLabelsOnly() const;

  // Called after every change (outside the lock), e.g. to push new sets.
  void set_on_change(std::function<void()> fn) { on_change_ = std::move(fn); }

 private:
  ProbeConfigs(KvStore* store, const Clock* clock, MetricCatalog* catalog, AuditLog* audit)
      : store_(store), clock_(clock), catalog_(catalog), audit_(audit) {}
  absl::Status Load();
  absl::StatusOr<v1::ProbeConfig> Build(const v1::PutProbeConfigRequest& request) const;
  absl::Status StoreConfig(const v1::ProbeConfig& config, uint64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DeleteLocked(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed();
  // Records an applied change (under mu_, so entries follow the versions).
  void Audit(absl::string_view who, absl::string_view action, absl::string_view name,
             const v1::ProbeConfig* before, const v1::ProbeConfig* after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  KvStore* const store_;
  const Clock* const clock_;
  MetricCatalog* const catalog_;
  AuditLog* const audit_;  // may be null
  std::function<void()> on_change_;

  mutable absl::Mutex mu_;
  std::map<std::string, v1::ProbeConfig, std::less<>> configs_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::controller
