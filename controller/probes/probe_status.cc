#include "controller/probes/probe_status.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/probe_spec.h"

namespace andon::controller {
namespace {

constexpr size_t kMaxHostsListed = 100;
constexpr int kMaxExampleHosts = 5;

using HostState = v1::ProbeConfigStatus::HostState;

}  // namespace

v1::ProbeConfigStatus ComputeProbeStatus(const v1::ProbeConfig& config, const ProbeConfigs& configs,
                                         const Registry& registry,
                                         const std::map<std::string, uint64_t>& pushed) {
  v1::ProbeConfigStatus out;
  out.set_name(config.name());
  out.set_version(config.version());
  std::map<std::string, v1::ProbeConfigStatus::Failure> failures;
  std::vector<HostState> hosts;
  for (const v1::Host& host : registry.ListHosts({})) {
    const std::string& id = host.info().host_id();
    if (!host.connected() || !SelectorMatches(config.target(), id, host.info().labels())) continue;
    out.set_hosts_targeted(out.hosts_targeted() + 1);
    HostState state;
    state.set_host_id(id);
    auto sent = pushed.find(id);
    const uint64_t applied = host.last_heartbeat().applied_config_version();
    std::string reason;
    if (sent == pushed.end() || applied < sent->second) {
      state.set_state(HostState::PENDING);
    } else {
      HostProbes wanted = configs.ForHost(id, host.info().labels());
      auto conflict = wanted.conflicts.find(config.name());
      if (conflict != wanted.conflicts.end()) reason = conflict->second;
      bool all_attached = true;
      for (const v1::ProbeInstance& inst : config.resolved()) {
        const v1::ProbeState* found = nullptr;
        for (const v1::ProbeState& p : host.last_heartbeat().probes()) {
          if (p.key() == inst.key()) found = &p;
        }
        if (found != nullptr) *state.add_probes() = *found;
        if (found == nullptr || found->state() != v1::ProbeState::ATTACHED) all_attached = false;
        if (found != nullptr && found->state() == v1::ProbeState::FAILED && reason.empty()) {
          reason = absl::StrCat(inst.key(), ": ", found->message());
        }
      }
      if (!reason.empty()) {
        state.set_state(HostState::FAILED);
      } else {
        state.set_state(all_attached ? HostState::APPLIED : HostState::PENDING);
      }
    }
    switch (state.state()) {
      case HostState::APPLIED:
        out.set_hosts_applied(out.hosts_applied() + 1);
        break;
      case HostState::FAILED: {
        out.set_hosts_failed(out.hosts_failed() + 1);
        v1::ProbeConfigStatus::Failure& f = failures[reason];
        f.set_reason(reason);
        f.set_hosts(f.hosts() + 1);
        if (f.example_hosts_size() < kMaxExampleHosts) f.add_example_hosts(id);
        break;
      }
      default:
        out.set_hosts_pending(out.hosts_pending() + 1);
        break;
    }
    hosts.push_back(std::move(state));
  }
  std::vector<v1::ProbeConfigStatus::Failure> grouped;
  for (auto& [reason, f] : failures) grouped.push_back(std::move(f));
  std::sort(grouped.begin(), grouped.end(), [](const auto& a, const auto& b) {
    return a.hosts() != b.hosts() ? a.hosts() > b.hosts() : a.reason() < b.reason();
  });
  for (auto& f : grouped) *out.add_failures() = std::move(f);
  // Failed first, then pending, then applied; by id within each.
  auto rank = [](const HostState& h) {
    return h.state() == HostState::FAILED ? 0 : h.state() == HostState::PENDING ? 1 : 2;
  };
  std::sort(hosts.begin(), hosts.end(), [&](const HostState& a, const HostState& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a.host_id() < b.host_id();
  });
  for (size_t i = 0; i < hosts.size() && i < kMaxHostsListed; ++i) *out.add_hosts() = hosts[i];
  return out;
}

}  // namespace andon::controller
