#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "andon/v1/probes.pb.h"
#include "controller/probes/apply_tracker.h"
#include "controller/probes/probe_configs.h"
#include "controller/registry.h"

namespace andon::controller {

// The Probes API over the domain objects, shared by the gRPC service and the
// JSON API so that both answer alike. Changes (put, delete) are refused with
// PERMISSION_DENIED from peers not on loopback unless allow_remote_changes:
// a probe configuration runs code as root on every targeted host and there
// is no authentication yet. Thread-safe as its parts are.
class ProbeApi {
 public:
  // All must outlive the API.
  ProbeApi(ProbeConfigs* configs, const Registry* registry, const ApplyTracker* applied,
           bool allow_remote_changes)
      : configs_(configs),
        registry_(registry),
        applied_(applied),
        allow_remote_changes_(allow_remote_changes) {}

  v1::ListCatalogResponse ListCatalog() const;
  // `peer` is gRPC's peer string ("ipv4:127.0.0.1:5000") or an HTTP remote
  // address ("127.0.0.1", "::1").
  absl::StatusOr<v1::ProbeConfig> Put(const v1::PutProbeConfigRequest& request,
                                      absl::string_view peer);
  absl::StatusOr<v1::DeleteProbeConfigResponse> Delete(const v1::DeleteProbeConfigRequest& request,
                                                       absl::string_view peer);
  v1::ListProbeConfigsResponse List() const;
  absl::StatusOr<v1::ProbeConfigStatus> Status(const v1::GetProbeStatusRequest& request) const;

 private:
  absl::Status CheckMayChange(absl::string_view peer) const;

  ProbeConfigs* const configs_;
  const Registry* const registry_;
  const ApplyTracker* const applied_;
  const bool allow_remote_changes_;
};

// True for loopback peers: ipv4:127.x, ipv6:[::1], IPv4-mapped 127.x, unix.
bool IsLoopbackPeer(absl::string_view peer);

}  // namespace andon::controller
