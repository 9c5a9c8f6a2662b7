#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/fleet.pb.h"
#include "controller/registry.h"

namespace andon::controller {

// Changes of host labels, shared by the gRPC Fleet service and the JSON API.
// A label change re-targets probe configurations (code run as root on the
// host), so, as for probe configurations, changes are taken from loopback
// peers only unless allow_remote_changes. After a change, `on_change` runs
// (outside any lock) to push the hosts' new probe sets. Thread-safe.
class HostLabelsApi {
 public:
  // `registry` must outlive the API.
  HostLabelsApi(Registry* registry, bool allow_remote_changes, std::function<void()> on_change)
      : registry_(registry),
        allow_remote_changes_(allow_remote_changes),
        on_change_(std::move(on_change)) {}

  // Errors as Registry::SetHostLabels, or PERMISSION_DENIED for a remote
  // peer.
  absl::StatusOr<v1::Host> Set(const v1::SetHostLabelsRequest& request, absl::string_view peer);

 private:
  Registry* const registry_;
  const bool allow_remote_changes_;
  const std::function<void()> on_change_;
};

}  // namespace andon::controller
