#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "andon/v1/agent.pb.h"

namespace andon::controller {

// Which aggregator each host streams to: rendezvous hashing of (host id,
// aggregator id) over a fixed set of aggregators, so an aggregator joining or
// leaving moves only its own share of hosts. An immutable value: build a new
// one when the set of live aggregators changes. Thread-compatible (const
// methods may be called concurrently).
class ShardMap {
 public:
  ShardMap() = default;
  // Duplicate ids keep the first address given.
  explicit ShardMap(const std::vector<v1::AggregatorRef>& aggregators);

  bool empty() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }

  // The aggregator for `host_id`, or nullptr when the map is empty. The
  // pointer lives as long as this map.
  const v1::AggregatorRef* Lookup(absl::string_view host_id) const;

  // Number of hosts of `host_ids` assigned to each aggregator id (every
  // aggregator appears, possibly with 0).
  std::map<std::string, uint32_t> Count(const std::vector<std::string>& host_ids) const;

 private:
  std::vector<std::string> ids_;         // sorted
  std::vector<v1::AggregatorRef> refs_;  // parallel to ids_
};

}  // namespace andon::controller
