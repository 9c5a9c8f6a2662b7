#include "controller/shard_map.h"

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace andon::controller {
namespace {

std::vector<ShardMap::Member> EqualMembers(const std::vector<v1::AggregatorRef>& aggregators) {
  std::vector<ShardMap::Member> out;
  out.reserve(aggregators.size());
  for (const auto& a : aggregators) out.push_back({.ref = a});
  return out;
}

}  // namespace

ShardMap::ShardMap(const std::vector<v1::AggregatorRef>& aggregators)
    : ShardMap(EqualMembers(aggregators)) {}

ShardMap::ShardMap(const std::vector<Member>& members) {
  std::map<std::string, const Member*> by_id;
  for (const Member& m : members) by_id.emplace(m.ref.id(), &m);
  all_draining_ = !by_id.empty();
  for (const auto& [id, m] : by_id) all_draining_ &= m->draining;
  for (const auto& [id, m] : by_id) {
    refs_.push_back(m->ref);
    const uint32_t weight = m->weight == 0 ? kDefaultAggregatorWeight : m->weight;
    nodes_.push_back({.id = id, .weight = m->draining && !all_draining_ ? 0 : weight});
  }
  uint64_t h = kFnv1aOffset;
  for (size_t i = 0; i < refs_.size(); ++i) {
    h = Fnv1aByte(Fnv1a(h, refs_[i].id()), 0);
    h = Fnv1aByte(Fnv1a(h, refs_[i].address()), 0);
    h = Fnv1a(h, absl::StrCat(nodes_[i].weight));
    h = Fnv1aByte(h, 1);
  }
  fingerprint_ = h;
}

const v1::AggregatorRef* ShardMap::Lookup(absl::string_view host_id) const {
  int i = RendezvousPick(host_id, nodes_);
  return i < 0 ? nullptr : &refs_[i];
}

std::map<std::string, uint32_t> ShardMap::Count(const std::vector<std::string>& host_ids) const {
  std::map<std::string, uint32_t> counts;
  for (const auto& n : nodes_) counts[n.id] = 0;
  for (const auto& h : host_ids) {
    int i = RendezvousPick(h, nodes_);
    if (i >= 0) ++counts[nodes_[i].id];
  }
  return counts;
}

}  // namespace andon::controller
