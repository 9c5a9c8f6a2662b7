#pragma once

#include "absl/status/statusor.h"
#include "andon/v1/fleet.pb.h"
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

}  // namespace andon::controller
