// Registry: the aggregator half (registration, liveness, shard map).
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/host_validation.h"
#include "controller/registry.h"

namespace andon::controller {

bool Registry::AggregatorLive(const v1::Aggregator& agg, absl::Time now) const {
  absl::Time seen = FromProtoTime(agg.last_seen());
  if (restart_grace_.contains(agg.id())) seen = std::max(seen, opened_at_);
  return now - seen <= options_.aggregator_heartbeat * kAggregatorLiveHeartbeats;
}

std::vector<std::string> Registry::TakeRestartedAggregators() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out(restarted_aggregators_.begin(), restarted_aggregators_.end());
  restarted_aggregators_.clear();
  return out;
}

absl::StatusOr<v1::AggregatorRef> Registry::RegisterAggregator(
    const v1::RegisterAggregatorRequest& request) {
  ANDON_RETURN_IF_ERROR(ValidateAggregator(request));
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  // The parent's own chain must not lead back here.
  std::string up = request.parent_id();
  for (size_t depth = 0; !up.empty(); ++depth) {
    if (up == request.id() || depth > aggregators_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "aggregator '", request.id(), "' names parent '", request.parent_id(),
          "', which is below it in the tree; give --parent an aggregator nearer the root"));
    }
    auto p = aggregators_.find(up);
    if (p == aggregators_.end()) break;
    up = p->second.parent_id();
  }
  v1::Aggregator agg;
  auto it = aggregators_.find(request.id());
  if (it != aggregators_.end()) agg = it->second;
  bool was_live = it != aggregators_.end() && AggregatorLive(agg, now);
  agg.set_id(request.id());
  agg.set_address(request.address());
  agg.set_http_address(request.http_address());
  agg.set_parent_id(request.parent_id());
  agg.set_role(request.role());
  agg.set_weight(request.weight() == 0 ? kDefaultAggregatorWeight : request.weight());
  // agg.draining() is kept: draining is the operator's choice, not the
  // aggregator's, and must survive its restarts.
  *agg.mutable_last_seen() = ToProtoTime(now);
  agg.clear_live();
  agg.clear_hosts();
  ANDON_RETURN_IF_ERROR(store_->Put(absl::StrCat("a/", request.id()), agg.SerializeAsString()));
  if (!was_live) {
    std::string shards;
    if (agg.role() == v1::AGGREGATOR_LEAF) {
      shards = absl::StrCat(" (weight ", agg.weight(),
                            agg.draining() ? ", draining: takes no hosts)" : ")");
    }
    ANDON_LOG(INFO) << "aggregator '" << request.id() << "' at " << request.address() << " is live"
                    << shards;
  }
  // It registers every heartbeat; a new instance while it was live is a
  // restart quicker than the live window.
  if (!request.instance_id().empty()) {
    auto [instance, first] = aggregator_instances_.try_emplace(request.id(), request.instance_id());
    if (!first && instance->second != request.instance_id()) {
      instance->second = request.instance_id();
      if (was_live && restarted_aggregators_.insert(request.id()).second) {
        ANDON_LOG(INFO) << "aggregator '" << request.id()
                        << "' restarted while live: its hosts are told to reconnect now";
      }
    }
  }
  aggregators_[request.id()] = std::move(agg);
  v1::AggregatorRef parent;
  auto p = aggregators_.find(request.parent_id());
  if (!request.parent_id().empty() && p != aggregators_.end() && AggregatorLive(p->second, now)) {
    parent.set_id(p->second.id());
    parent.set_address(p->second.address());
  }
  return parent;
}

std::vector<v1::AggregatorRef> Registry::LiveAggregatorsLocked(absl::Time now) const {
  std::vector<v1::AggregatorRef> out;
  for (const auto& [id, agg] : aggregators_) {
    if (!AggregatorLive(agg, now) || agg.role() != v1::AGGREGATOR_LEAF) continue;
    v1::AggregatorRef ref;
    ref.set_id(agg.id());
    ref.set_address(agg.address());
    out.push_back(std::move(ref));
  }
  return out;
}

std::vector<v1::AggregatorRef> Registry::LiveAggregators() const {
  absl::ReaderMutexLock lock(&mu_);
  return LiveAggregatorsLocked(clock_->Now());
}

std::vector<v1::AggregatorRef> Registry::TreeTops() const {
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  std::map<std::string, std::vector<const v1::Aggregator*>> children;
  std::vector<const v1::Aggregator*> roots;
  for (const auto& [id, agg] : aggregators_) {
    if (agg.parent_id().empty() || !aggregators_.contains(agg.parent_id())) {
      roots.push_back(&agg);
    } else {
      children[agg.parent_id()].push_back(&agg);
    }
  }
  std::vector<v1::AggregatorRef> out;
  // Depth-first; the registry refuses cycles, and a node is visited once.
  std::vector<const v1::Aggregator*> stack(roots.rbegin(), roots.rend());
  while (!stack.empty()) {
    const v1::Aggregator* a = stack.back();
    stack.pop_back();
    if (AggregatorLive(*a, now)) {
      v1::AggregatorRef ref;
      ref.set_id(a->id());
      ref.set_address(a->address());
      out.push_back(std::move(ref));
      continue;
    }
    auto c = children.find(a->id());
    if (c != children.end()) stack.insert(stack.end(), c->second.rbegin(), c->second.rend());
  }
  return out;
}

absl::StatusOr<v1::Aggregator> Registry::SetAggregatorDraining(absl::string_view id,
                                                               bool draining) {
  {
    absl::MutexLock lock(&mu_);
    auto it = aggregators_.find(id);
    if (it == aggregators_.end()) {
      return absl::NotFoundError(absl::StrCat("no aggregator '", id,
                                              "' is known to the controller; andonctl "
                                              "aggregators lists them"));
    }
    if (it->second.role() != v1::AGGREGATOR_LEAF) {
      return absl::FailedPreconditionError(absl::StrCat(
          "aggregator '", id,
          "' is an inner aggregator: it takes no hosts, so there is nothing to drain; drain "
          "its leaves instead"));
    }
    if (it->second.draining() != draining) {
      v1::Aggregator agg = it->second;
      agg.set_draining(draining);
      ANDON_RETURN_IF_ERROR(store_->Put(absl::StrCat("a/", id), agg.SerializeAsString()));
      it->second = std::move(agg);
      ANDON_LOG(INFO) << "aggregator '" << id << "' "
                      << (draining ? "is draining: its hosts move to the other leaves"
                                   : "is undrained: takes its share of hosts again");
    }
  }
  return GetAggregator(id);
}

absl::StatusOr<v1::Aggregator> Registry::GetAggregator(absl::string_view id) const {
  for (v1::Aggregator& a : ListAggregators()) {
    if (a.id() == id) return std::move(a);
  }
  return absl::NotFoundError(absl::StrCat("no aggregator '", id,
                                          "' is known to the controller; andonctl aggregators "
                                          "lists them"));
}

ShardMap Registry::LiveShardMapLocked(absl::Time now) const {
  std::vector<ShardMap::Member> members;
  for (const auto& [id, agg] : aggregators_) {
    if (!AggregatorLive(agg, now) || agg.role() != v1::AGGREGATOR_LEAF) continue;
    ShardMap::Member m;
    m.ref.set_id(agg.id());
    m.ref.set_address(agg.address());
    m.weight = agg.weight();  // 0 (a record from before weights): the default
    m.draining = agg.draining();
    members.push_back(std::move(m));
  }
  return ShardMap(members);
}

ShardMap Registry::LiveShardMap() const {
  ShardMap shards;
  {
    absl::ReaderMutexLock lock(&mu_);
    shards = LiveShardMapLocked(clock_->Now());
  }
  const bool all_draining = shards.all_draining();
  if (all_leaves_draining_.exchange(all_draining) != all_draining) {
    if (all_draining) {
      ANDON_LOG(WARNING) << "every live leaf aggregator is draining: their hosts stay on them "
                            "until one is undrained or another leaf joins";
    } else {
      ANDON_LOG(INFO) << "a live leaf aggregator that is not draining takes hosts again";
    }
  }
  return shards;
}

std::vector<v1::AggregatorRef> Registry::AggregatorsOfHost(absl::string_view host_id) const {
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  std::vector<v1::AggregatorRef> out;
  auto h = hosts_.find(host_id);
  if (h == hosts_.end()) return out;
  auto add_if_live = [&](const std::string& id) {
    auto a = aggregators_.find(id);
    if (a == aggregators_.end() || !AggregatorLive(a->second, now)) return false;
    for (const auto& ref : out) {
      if (ref.id() == id) return true;
    }
    v1::AggregatorRef ref;
    ref.set_id(a->second.id());
    ref.set_address(a->second.address());
    out.push_back(std::move(ref));
    return true;
  };
  if (!add_if_live(h->second.host.aggregator_id())) return out;
  for (const std::string& id : h->second.host.previous_aggregator_ids()) add_if_live(id);
  return out;
}

std::vector<v1::Aggregator> Registry::ListAggregators() const {
  absl::ReaderMutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  const ShardMap shards = LiveShardMapLocked(now);
  std::vector<std::string> live_hosts;
  for (const auto& [id, entry] : hosts_) {
    if (HostLive(entry.host, now)) live_hosts.push_back(id);
  }
  std::map<std::string, uint32_t> counts = shards.Count(live_hosts);
  std::vector<v1::Aggregator> out;
  for (const auto& [id, agg] : aggregators_) {
    v1::Aggregator a = agg;
    a.set_live(AggregatorLive(agg, now));
    if (a.weight() == 0) a.set_weight(kDefaultAggregatorWeight);
    auto c = counts.find(id);
    a.set_hosts(c == counts.end() ? 0 : c->second);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace andon::controller
