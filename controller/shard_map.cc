#include "controller/shard_map.h"

#include <algorithm>

#include "controller/rendezvous_hash.h"

namespace andon::controller {

ShardMap::ShardMap(const std::vector<v1::AggregatorRef>& aggregators) {
  std::map<std::string, v1::AggregatorRef> by_id;
  for (const auto& a : aggregators) by_id.emplace(a.id(), a);
  for (auto& [id, ref] : by_id) {
    ids_.push_back(id);
    refs_.push_back(std::move(ref));
  }
}

const v1::AggregatorRef* ShardMap::Lookup(absl::string_view host_id) const {
  int i = RendezvousPick(host_id, ids_);
  return i < 0 ? nullptr : &refs_[i];
}

std::map<std::string, uint32_t> ShardMap::Count(const std::vector<std::string>& host_ids) const {
  std::map<std::string, uint32_t> counts;
  for (const auto& id : ids_) counts[id] = 0;
  for (const auto& h : host_ids) {
    int i = RendezvousPick(h, ids_);
    if (i >= 0) ++counts[ids_[i]];
  }
  return counts;
}

}  // namespace andon::controller
