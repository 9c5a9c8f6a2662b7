#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/fleet.pb.h"
#include "controller/audit/audit_log.h"
#include "controller/registry.h"

namespace andon::controller {

// The Fleet API as plain functions over a Registry, shared by the gRPC Fleet
// service and the JSON API so both answer alike. No gRPC here. Thread-safe as
// the Registry is.

// One page of hosts with fleet counts (controller/host_listing.h);
// INVALID_ARGUMENT for a bad selector, state, order or page token.
absl::StatusOr<v1::ListHostsResponse> ListHosts(const Registry& registry,
                                                const v1::ListHostsRequest& request);
// NOT_FOUND naming the host id.
absl::StatusOr<v1::Host> GetHost(const Registry& registry, const v1::GetHostRequest& request);
v1::ListAggregatorsResponse ListAggregators(const Registry& registry);
// INVALID_ARGUMENT without id or address; replies with the heartbeat interval.
absl::StatusOr<v1::RegisterAggregatorResponse> RegisterAggregator(
    Registry& registry, const v1::RegisterAggregatorRequest& request);

// Draining and undraining leaf aggregators, shared by the gRPC Fleet service
// and the JSON API. Draining moves hosts (the agent control service's
// periodic push moves them, at its usual pace), so, as for host labels,
// changes are taken from loopback peers only unless allow_remote_changes.
// Each request is recorded in `audit` (when given) with the aggregator's
// weight and draining before and after. Thread-safe: changes are serialised,
// so audited befores follow afters.
class AggregatorDrainApi {
 public:
  // `registry` and `audit` (may be null) must outlive the API.
  AggregatorDrainApi(Registry* registry, bool allow_remote_changes, AuditLog* audit = nullptr)
      : registry_(registry), allow_remote_changes_(allow_remote_changes), audit_(audit) {}

  // Drains (request.drain) or undrains the aggregator; draining one already
  // draining changes nothing but is still audited. Errors as
  // Registry::SetAggregatorDraining, INVALID_ARGUMENT without an id, or
  // PERMISSION_DENIED for a remote peer. `peer` is gRPC's peer string or an
  // HTTP remote address.
  absl::StatusOr<v1::Aggregator> Drain(const v1::DrainAggregatorRequest& request,
                                       absl::string_view peer);

 private:
  Registry* const registry_;
  const bool allow_remote_changes_;
  AuditLog* const audit_;
  absl::Mutex mu_;  // serialises changes
};

}  // namespace andon::controller
