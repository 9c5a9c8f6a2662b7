#include "controller/probes/probe_api.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/probe_catalog.h"
#include "common/status_macros.h"
#include "controller/probes/apply_tracker.h"

namespace andon::controller {

bool IsLoopbackPeer(absl::string_view peer) {
  absl::ConsumePrefix(&peer, "ipv4:");
  absl::ConsumePrefix(&peer, "ipv6:");
  absl::ConsumePrefix(&peer, "[");
  return absl::StartsWith(peer, "127.") || absl::StartsWith(peer, "::1") ||
         absl::StartsWith(peer, "::ffff:127.") || absl::StartsWith(peer, "unix:") ||
         peer == "localhost";
}

absl::Status ProbeApi::CheckMayChange(absl::string_view peer) const {
  if (allow_remote_changes_ || IsLoopbackPeer(peer)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "probe configurations run code as root on every targeted host, and this controller takes "
      "changes only from loopback (you are ",
      peer,
      "); run andonctl on the controller's host, or start andon-controller with "
      "--allow_remote_changes once its port is protected"));
}

v1::ListCatalogResponse ProbeApi::ListCatalog() const {
  v1::ListCatalogResponse out;
  for (const v1::CatalogProbe& p : BuiltinProbes()) *out.add_probes() = p;
  for (const std::string& f : GenericProbeForms()) out.add_generic_forms(f);
  return out;
}

absl::StatusOr<v1::ProbeConfig> ProbeApi::Put(const v1::PutProbeConfigRequest& request,
                                              absl::string_view peer) {
  ANDON_RETURN_IF_ERROR(CheckMayChange(peer));
  return configs_->Put(request, peer);
}

absl::StatusOr<v1::DeleteProbeConfigResponse> ProbeApi::Delete(
    const v1::DeleteProbeConfigRequest& request, absl::string_view peer) {
  ANDON_RETURN_IF_ERROR(CheckMayChange(peer));
  ANDON_ASSIGN_OR_RETURN(uint64_t version,
                         configs_->Delete(request.name(), request.expected_version(), peer));
  v1::DeleteProbeConfigResponse out;
  out.set_version(version);
  return out;
}

v1::ListProbeConfigsResponse ProbeApi::List() const { return configs_->List(); }

absl::StatusOr<v1::ProbeConfigStatus> ProbeApi::Status(
    const v1::GetProbeStatusRequest& request) const {
  ANDON_ASSIGN_OR_RETURN(v1::ProbeConfig config, configs_->Get(request.name()));
  return applied_->Status(config, *registry_);
}

}  // namespace andon::controller
