#include "controller/fleet_api.h"

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/status_macros.h"
#include "controller/host_listing.h"

namespace andon::controller {

absl::StatusOr<v1::ListHostsResponse> ListHosts(const Registry& registry,
                                                const v1::ListHostsRequest& request) {
  return ListHostsPage(registry, request);
}

absl::StatusOr<v1::Host> GetHost(const Registry& registry, const v1::GetHostRequest& request) {
  return registry.GetHost(request.host_id());
}

v1::ListAggregatorsResponse ListAggregators(const Registry& registry) {
  v1::ListAggregatorsResponse out;
  for (auto& a : registry.ListAggregators()) *out.add_aggregators() = std::move(a);
  for (const auto& r : registry.options().forward_rules) *out.add_forward_rules() = r;
  return out;
}

absl::StatusOr<v1::RegisterAggregatorResponse> RegisterAggregator(
    Registry& registry, const v1::RegisterAggregatorRequest& request) {
  ANDON_ASSIGN_OR_RETURN(v1::AggregatorRef parent, registry.RegisterAggregator(request));
  v1::RegisterAggregatorResponse out;
  *out.mutable_parent() = std::move(parent);
  for (const auto& r : registry.options().forward_rules) *out.add_forward_rules() = r;
  out.set_heartbeat_interval_ms(
      static_cast<uint32_t>(absl::ToInt64Milliseconds(registry.options().aggregator_heartbeat)));
  return out;
}

}  // namespace andon::controller
