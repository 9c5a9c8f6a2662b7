#include "controller/registry.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/host_validation.h"

namespace andon::controller {
namespace {

// info.labels = the agent's labels with the overrides applied (an empty
// override removes).
void ApplyLabelOverrides(v1::Host& host) {
  auto& labels = *host.mutable_info()->mutable_labels();
  for (const auto& [name, value] : host.label_overrides()) {
    if (value.empty()) {
      labels.erase(name);
    } else {
      labels[name] = value;
    }
  }
}

absl::Status CheckSettableLabel(const std::string& name) {
  if (!IsValidLabelName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("label name '", name, "' is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)"));
  }
  if (name == "host") {
    return absl::InvalidArgumentError(
        "the label 'host' is the host id and cannot be set; pick another name");
  }
  return absl::OkStatus();
}

constexpr absl::string_view kHostPrefix = "h/";
constexpr absl::string_view kAggregatorPrefix = "a/";

std::string HostKey(absl::string_view id) { return absl::StrCat(kHostPrefix, id); }

std::string DescribeHolder(const v1::Host& host, absl::Time now) {
  absl::Duration ago = absl::Trunc(now - FromProtoTime(host.last_seen()), absl::Seconds(1));
  return absl::StrCat("instance ", host.instance_id(), ", last seen ",
                      ago <= absl::ZeroDuration() ? "0s" : absl::FormatDuration(ago), " ago",
                      host.connected() ? ", control stream open" : "");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Registry>> Registry::Open(KvStore* store, const Clock* clock,
                                                         RegistryOptions options) {
  std::unique_ptr<Registry> registry(new Registry(store, clock, options));
  ANDON_RETURN_IF_ERROR(registry->Load());
  return registry;
}

absl::Status Registry::Load() {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  ANDON_RETURN_IF_ERROR(
      store_->Scan(kHostPrefix, [&](absl::string_view key, absl::string_view value) {
        HostEntry entry;
        if (!entry.host.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          ANDON_LOG(WARNING) << "skipping unreadable host record '" << key << "'";
          return absl::OkStatus();
        }
        entry.host.set_connected(false);
        entry.persisted_at = now;
        std::string id = entry.host.info().host_id();
        hosts_[id] = std::move(entry);
        return absl::OkStatus();
      }));
  ANDON_RETURN_IF_ERROR(
      store_->Scan(kAggregatorPrefix, [&](absl::string_view key, absl::string_view value) {
        v1::Aggregator agg;
        if (!agg.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          ANDON_LOG(WARNING) << "skipping unreadable aggregator record '" << key << "'";
          return absl::OkStatus();
        }
        aggregators_[agg.id()] = std::move(agg);
        return absl::OkStatus();
      }));
  host_count_ = hosts_.size();
  // The aggregators that were live when the previous controller last heard
  // from any stay live for one liveness window from now, so that those that
  // reconnect first do not take every host while the others are still
  // reconnecting (which would move hosts for nothing).
  absl::Time newest = absl::InfinitePast();
  for (const auto& [id, agg] : aggregators_)
    newest = std::max(newest, FromProtoTime(agg.last_seen()));
  for (const auto& [id, agg] : aggregators_) {
    if (newest - FromProtoTime(agg.last_seen()) <=
        options_.aggregator_heartbeat * kAggregatorLiveHeartbeats) {
      restart_grace_.insert(id);
    }
  }
  opened_at_ = now;
  ANDON_LOG(INFO) << "registry loaded " << hosts_.size() << " hosts and " << aggregators_.size()
                  << " aggregators (" << restart_grace_.size()
                  << " of them live until they heartbeat or miss " << kAggregatorLiveHeartbeats
                  << " heartbeats)";
  return absl::OkStatus();
}

bool Registry::HostLive(const v1::Host& host, absl::Time now) const {
  return host.connected() || now - FromProtoTime(host.last_seen()) <= options_.host_ttl;
}

absl::Duration Registry::HeartbeatInterval() const {
  const double seconds =
      std::ceil(static_cast<double>(host_count_.load()) / options_.max_heartbeats_per_second);
  return std::clamp(absl::Seconds(seconds), kMinHeartbeatInterval, kMaxHeartbeatInterval);
}

absl::Duration Registry::StaleAfter() const {
  return std::max(kHostStaleAfter, kStaleHeartbeats * HeartbeatInterval());
}

v1::HostState Registry::StateOf(const v1::Host& host, absl::Time now) const {
  const absl::Duration since = now - FromProtoTime(host.last_seen());
  if (host.connected() && since <= StaleAfter()) return v1::HOST_UP;
  if (host.connected() || since <= options_.host_ttl) return v1::HOST_STALE;
  return v1::HOST_DOWN;
}

void Registry::VisitHosts(const std::function<void(const v1::Host&, v1::HostState)>& visit) const {
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  for (const auto& [id, entry] : hosts_) visit(entry.host, StateOf(entry.host, now));
}

bool Registry::HostClaimed(const HostEntry& entry, absl::Time now) const {
  const bool heartbeating =
      entry.host.connected() &&
      now - FromProtoTime(entry.host.last_seen()) <= std::max(options_.claim_grace, StaleAfter());
  return heartbeating || now < entry.claim_pending_until;
}

void Registry::PersistHost(HostEntry& entry, absl::Time now) {
  dirty_.insert(entry.host.info().host_id());
  entry.persisted_at = now;
}

absl::Status Registry::PersistHostNow(HostEntry& entry, absl::Time now) {
  ANDON_RETURN_IF_ERROR(
      store_->Put(HostKey(entry.host.info().host_id()), entry.host.SerializeAsString()));
  dirty_.erase(entry.host.info().host_id());
  entry.persisted_at = now;
  return absl::OkStatus();
}

absl::Status Registry::Flush() {
  absl::MutexLock flushing(&flush_mu_);
  std::vector<std::pair<std::string, std::string>> writes;
  {
    absl::MutexLock lock(&mu_);
    if (dirty_.empty()) return absl::OkStatus();
    writes.reserve(dirty_.size());
    for (const std::string& id : dirty_) {
      auto it = hosts_.find(id);
      if (it != hosts_.end()) writes.emplace_back(HostKey(id), it->second.host.SerializeAsString());
    }
    dirty_.clear();
  }
  absl::Status s = store_->PutAll(writes);
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, value] : writes) dirty_.insert(key.substr(kHostPrefix.size()));
  }
  return s;
}

Registry::~Registry() {
  absl::Status s = Flush();
  if (!s.ok()) ANDON_LOG(WARNING) << "registry: last write of changed hosts failed: " << s;
}

absl::StatusOr<Registry::HostEntry*> Registry::HeldHost(absl::string_view host_id,
                                                        absl::string_view instance_id) {
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("host '", host_id, "' is not registered; call Register first"));
  }
  if (it->second.host.instance_id() != instance_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("host '", host_id, "' is now held by instance ", it->second.host.instance_id(),
                     ", not ", instance_id));
  }
  return &it->second;
}

absl::StatusOr<v1::Host> Registry::SetHostLabels(absl::string_view host_id,
                                                 const std::map<std::string, std::string>& set,
                                                 const std::vector<std::string>& remove) {
  if (set.empty() && remove.empty()) {
    return absl::InvalidArgumentError("no labels to set or remove; give k=v to set, k- to remove");
  }
  for (const auto& [name, value] : set) {
    ANDON_RETURN_IF_ERROR(CheckSettableLabel(name));
    if (value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("label '", name, "' has an empty value; to remove it give ", name, "-"));
    }
  }
  for (const std::string& name : remove) {
    ANDON_RETURN_IF_ERROR(CheckSettableLabel(name));
    if (set.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("label '", name, "' is both set and removed; give one of them"));
    }
  }
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) {
    return absl::NotFoundError(absl::StrCat("no host '", host_id, "'; andonctl hosts lists them"));
  }
  HostEntry updated = it->second;
  auto& overrides = *updated.host.mutable_label_overrides();
  for (const auto& [name, value] : set) overrides[name] = value;
  for (const std::string& name : remove) overrides[name] = "";
  ApplyLabelOverrides(updated.host);
  ANDON_RETURN_IF_ERROR(PersistHostNow(updated, clock_->Now()));
  it->second = updated;
  return updated.host;
}

absl::StatusOr<v1::Host> Registry::RegisterHost(const v1::HostInfo& info,
                                                absl::string_view instance_id) {
  ANDON_RETURN_IF_ERROR(ValidateHostInfo(info));
  ANDON_RETURN_IF_ERROR(ValidateInstanceId(instance_id));
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  auto it = hosts_.find(info.host_id());
  if (it != hosts_.end()) {
    const v1::Host& old = it->second.host;
    if (old.instance_id() != instance_id && HostClaimed(it->second, now)) {
      return absl::AlreadyExistsError(
          absl::StrCat("host id '", info.host_id(), "' is already held by a live agent (",
                       DescribeHolder(old, now),
                       "); give this agent a different --host_id or stop the other one"));
    }
  }
  HostEntry updated = it != hosts_.end() ? it->second : HostEntry{};
  v1::Host& host = updated.host;
  if (it == hosts_.end()) *host.mutable_first_seen() = ToProtoTime(now);
  if (host.instance_id() != instance_id) {
    if (!host.instance_id().empty()) {
      ANDON_LOG(INFO) << "host '" << info.host_id() << "' taken over by instance " << instance_id
                      << " from stale instance " << host.instance_id();
    }
    host.set_connected(false);
    host.clear_last_heartbeat();
  }
  *host.mutable_info() = info;
  ApplyLabelOverrides(host);
  host.set_instance_id(std::string(instance_id));
  *host.mutable_last_seen() = ToProtoTime(now);
  if (!host.connected()) updated.claim_pending_until = now + options_.claim_grace;
  PersistHost(updated, now);
  hosts_[info.host_id()] = updated;
  host_count_ = hosts_.size();
  return host;
}

absl::Status Registry::SetAssignment(absl::string_view host_id, absl::string_view aggregator_id) {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) {
    return absl::NotFoundError(absl::StrCat("host '", host_id, "' is not registered"));
  }
  v1::Host& host = it->second.host;
  if (host.aggregator_id() == aggregator_id) return absl::OkStatus();
  if (!host.aggregator_id().empty()) {
    // Most recent first, without the new one, at most kMaxPreviousAggregators.
    std::vector<std::string> previous = {host.aggregator_id()};
    for (const std::string& id : host.previous_aggregator_ids()) {
      if (id != aggregator_id && id != host.aggregator_id()) previous.push_back(id);
    }
    if (previous.size() > kMaxPreviousAggregators) previous.resize(kMaxPreviousAggregators);
    host.clear_previous_aggregator_ids();
    for (std::string& id : previous) host.add_previous_aggregator_ids(std::move(id));
  }
  host.set_aggregator_id(std::string(aggregator_id));
  PersistHost(it->second, clock_->Now());
  return absl::OkStatus();
}

absl::StatusOr<v1::AggregatorRef> Registry::AssignHost(absl::string_view host_id) {
  ShardMap shards = LiveShardMap();
  const v1::AggregatorRef* ref = shards.Lookup(host_id);
  if (ref == nullptr) {
    // None live (the aggregators are reconnecting after a restart of theirs
    // or ours): a host that had one keeps it, as connected hosts do.
    absl::ReaderMutexLock lock(&mu_);
    auto host = hosts_.find(host_id);
    if (host != hosts_.end()) {
      auto agg = aggregators_.find(host->second.host.aggregator_id());
      if (agg != aggregators_.end()) {
        v1::AggregatorRef kept;
        kept.set_id(agg->second.id());
        kept.set_address(agg->second.address());
        return kept;
      }
    }
    return absl::UnavailableError("no live aggregator yet; the agent will retry");
  }
  ANDON_RETURN_IF_ERROR(SetAssignment(host_id, ref->id()));
  return *ref;
}

absl::Status Registry::SetConnected(absl::string_view host_id, absl::string_view instance_id,
                                    bool connected) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<HostEntry*> entry = HeldHost(host_id, instance_id);
  if (!entry.ok()) return connected ? entry.status() : absl::OkStatus();
  absl::Time now = clock_->Now();
  (*entry)->host.set_connected(connected);
  (*entry)->claim_pending_until = absl::InfinitePast();
  *(*entry)->host.mutable_last_seen() = ToProtoTime(now);
  PersistHost(**entry, now);
  return absl::OkStatus();
}

absl::Status Registry::RecordHeartbeat(absl::string_view host_id, absl::string_view instance_id,
                                       const v1::Heartbeat& heartbeat) {
  absl::MutexLock lock(&mu_);
  ANDON_ASSIGN_OR_RETURN(HostEntry * entry, HeldHost(host_id, instance_id));
  absl::Time now = clock_->Now();
  *entry->host.mutable_last_heartbeat() = heartbeat;
  *entry->host.mutable_last_seen() = ToProtoTime(now);
  // Heartbeats arrive every interval from every host: write through only
  // often enough that a restarted controller still sees the host as recently
  // live, and never for every heartbeat.
  if (now - entry->persisted_at >= std::max(options_.host_ttl / 3, StaleAfter())) {
    PersistHost(*entry, now);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Host> Registry::GetHost(absl::string_view host_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) {
    return absl::NotFoundError(absl::StrCat("host '", host_id, "' is not known to the controller"));
  }
  v1::Host host = it->second.host;
  host.set_state(StateOf(host, clock_->Now()));
  return host;
}

std::optional<google::protobuf::Map<std::string, std::string>> Registry::LabelsOf(
    absl::string_view host_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) return std::nullopt;
  return it->second.host.info().labels();
}

std::vector<v1::Host> Registry::ListHosts(
    const std::map<std::string, std::string>& selector) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::Host> out;
  for (const auto& [id, entry] : hosts_) {
    const auto& labels = entry.host.info().labels();
    bool match = true;
    for (const auto& [name, value] : selector) {
      auto l = labels.find(name);
      if (l == labels.end() || l->second != value) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(entry.host);
  }
  return out;
}

FleetCounts Registry::Counts() const {
  absl::ReaderMutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  FleetCounts counts;
  counts.hosts_known = hosts_.size();
  for (const auto& [id, entry] : hosts_) counts.hosts_connected += entry.host.connected() ? 1 : 0;
  for (const auto& [id, agg] : aggregators_) counts.aggregators_live += AggregatorLive(agg, now);
  return counts;
}

}  // namespace andon::controller
