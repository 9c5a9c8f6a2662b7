#include "controller/host_labels_api.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "controller/probes/probe_api.h"

namespace andon::controller {
namespace {

// What the audit log keeps of a host: its id and labels, not its heartbeats.
v1::Host LabelsOf(const v1::Host& host) {
  v1::Host out;
  out.mutable_info()->set_host_id(host.info().host_id());
  *out.mutable_info()->mutable_labels() = host.info().labels();
  *out.mutable_label_overrides() = host.label_overrides();
  return out;
}

}  // namespace

absl::StatusOr<v1::Host> HostLabelsApi::Set(const v1::SetHostLabelsRequest& request,
                                            absl::string_view peer) {
  if (!allow_remote_changes_ && !IsLoopbackPeer(peer)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "host labels choose which probes run as root on a host, and this controller takes "
        "changes only from loopback (you are ",
        peer,
        "); run andonctl on the controller's host, or start andon-controller with "
        "--allow_remote_changes once its port is protected"));
  }
  std::map<std::string, std::string> set(request.set().begin(), request.set().end());
  std::vector<std::string> remove(request.remove().begin(), request.remove().end());
  absl::StatusOr<v1::Host> host;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<v1::Host> before = registry_->GetHost(request.host_id());
    host = registry_->SetHostLabels(request.host_id(), set, remove);
    if (!host.ok()) return host.status();
    ANDON_LOG(INFO) << "labels of host '" << request.host_id() << "' changed by " << peer
                    << ": set " << set.size() << ", removed " << remove.size();
    if (audit_ != nullptr) {
      const v1::Host after = LabelsOf(*host);
      const v1::Host was = before.ok() ? LabelsOf(*before) : v1::Host();
      absl::Status s = audit_->Append(peer, kAuditLabelsSet, request.host_id(),
                                      before.ok() ? &was : nullptr, &after);
      if (!s.ok()) {
        ANDON_LOG(ERROR) << "audit log: cannot record the label change of '" << request.host_id()
                         << "' by " << peer << ": " << s;
      }
    }
  }
  if (on_change_) on_change_();
  return host;
}

}  // namespace andon::controller
