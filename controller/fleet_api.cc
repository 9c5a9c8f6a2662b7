#include "controller/fleet_api.h"

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "controller/host_listing.h"
#include "controller/probes/probe_api.h"

namespace andon::controller {
namespace {

// What the audit log keeps of an aggregator: what a drain changes and what
// says which one it was, not its heartbeats or host count.
v1::Aggregator DrainStateOf(const v1::Aggregator& agg) {
  v1::Aggregator out;
  out.set_id(agg.id());
  out.set_address(agg.address());
  out.set_role(agg.role());
  out.set_weight(agg.weight());
  out.set_draining(agg.draining());
  return out;
}

}  // namespace

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

absl::StatusOr<v1::Aggregator> AggregatorDrainApi::Drain(const v1::DrainAggregatorRequest& request,
                                                         absl::string_view peer) {
  const char* verb = request.drain() ? "drain" : "undrain";
  if (!allow_remote_changes_ && !IsLoopbackPeer(peer)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "draining an aggregator moves hosts, and this controller takes changes only from "
        "loopback (you are ",
        peer,
        "); run andonctl on the controller's host, or start andon-controller with "
        "--allow_remote_changes once its port is protected"));
  }
  if (request.id().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no aggregator id given to ", verb, "; andonctl aggregators lists them"));
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::Aggregator> before = registry_->GetAggregator(request.id());
  ANDON_ASSIGN_OR_RETURN(v1::Aggregator after,
                         registry_->SetAggregatorDraining(request.id(), request.drain()));
  ANDON_LOG(INFO) << "aggregator '" << request.id() << "': " << verb << " by " << peer;
  if (audit_ != nullptr) {
    const v1::Aggregator was = before.ok() ? DrainStateOf(*before) : v1::Aggregator();
    const v1::Aggregator now = DrainStateOf(after);
    absl::Status s =
        audit_->Append(peer, request.drain() ? kAuditAggregatorsDrain : kAuditAggregatorsUndrain,
                       request.id(), before.ok() ? &was : nullptr, &now);
    if (!s.ok()) {
      ANDON_LOG(ERROR) << "audit log: cannot record the " << verb << " of aggregator '"
                       << request.id() << "' by " << peer << ": " << s;
    }
  }
  return after;
}

}  // namespace andon::controller
