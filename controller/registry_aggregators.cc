// Registry: the aggregator half (registration, liveness, shard map).
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/host_validation.h"
#include "controller/registry.h"

namespace andon::controller {

bool Registry::AggregatorLive(const v1::Aggregator& agg, absl::Time now) const {
  return now - FromProtoTime(agg.last_seen()) <=
         options_.aggregator_heartbeat * kAggregatorLiveHeartbeats;
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
  *agg.mutable_last_seen() = ToProtoTime(now);
  agg.clear_live();
  agg.clear_hosts();
  ANDON_RETURN_IF_ERROR(store_->Put(absl::StrCat("a/", request.id()), agg.SerializeAsString()));
  if (!was_live) {
    ANDON_LOG(INFO) << "aggregator '" << request.id() << "' at " << request.address() << " is live";
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

ShardMap Registry::LiveShardMap() const { return ShardMap(LiveAggregators()); }

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
  ShardMap shards(LiveAggregatorsLocked(now));
  std::vector<std::string> live_hosts;
  for (const auto& [id, entry] : hosts_) {
    if (HostLive(entry.host, now)) live_hosts.push_back(id);
  }
  std::map<std::string, uint32_t> counts = shards.Count(live_hosts);
  std::vector<v1::Aggregator> out;
  for (const auto& [id, agg] : aggregators_) {
    v1::Aggregator a = agg;
    a.set_live(AggregatorLive(agg, now));
    auto c = counts.find(id);
    a.set_hosts(c == counts.end() ? 0 : c->second);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace andon::controller
