#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/fleet.pb.h"
#include "controller/audit/audit_log.h"
#include "controller/registry.h"

namespace andon::controller {

// Changes of host labels, shared by the gRPC Fleet service and the JSON API.
// A label change re-targets probe configurations (code run as root on the
// host), so, as for probe configurations, changes are taken from loopback
// peers only unless allow_remote_changes. After a change, `on_change` runs
// (outside any lock) to push the hosts' new probe sets. Each change is
// recorded in `audit` (when given) with the host's labels before and after.
// Thread-safe: changes are serialised, so audited befores follow afters.
class HostLabelsApi {
 public:
  // `registry` and `audit` (may be null) must outlive the API.
  HostLabelsApi(Registry* registry, bool allow_remote_changes, std::function<void()> on_change,
                AuditLog* audit = nullptr)
      : registry_(registry),
        allow_remote_changes_(allow_remote_changes),
        on_change_(std::move(on_change)),
        audit_(audit) {}

  // Errors as Registry::SetHostLabels, or PERMISSION_DENIED for a remote
  // peer.
  absl::StatusOr<v1::Host> Set(const v1::SetHostLabelsRequest& request, absl::string_view peer);

 private:
  Registry* const registry_;
  const bool allow_remote_changes_;
  const std::function<void()> on_change_;
  AuditLog* const audit_;
  absl::Mutex mu_;  // serialises changes
};

}  // namespace andon::controller
