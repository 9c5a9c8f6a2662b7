#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "andon/v1/agent.pb.h"
#include "controller/rendezvous_hash.h"

namespace andon::controller {

// An aggregator's weight when it registers without one (and of records
// stored before weights existed): weights are relative, so 200 takes twice
// the hosts of the default.
inline constexpr uint32_t kDefaultAggregatorWeight = 100;

// Which aggregator each host streams to: weighted rendezvous hashing of
// (host id, aggregator id) over a fixed set of aggregators, so each takes a
// share of hosts proportional to its weight, and an aggregator joining,
// leaving or draining moves only its own share of hosts. A draining member
// takes no hosts, unless every member is draining: then they keep taking
// them by weight, as there is nowhere else for the hosts to go. An immutable
// value: build a new one when the set of live aggregators changes.
// Thread-compatible (const methods may be called concurrently).
class ShardMap {
 public:
  struct Member {
    v1::AggregatorRef ref;
    uint32_t weight = kDefaultAggregatorWeight;  // 0: kDefaultAggregatorWeight
    bool draining = false;
  };

  ShardMap() = default;
  // Equal weights, none draining. Duplicate ids keep the first address given.
  explicit ShardMap(const std::vector<v1::AggregatorRef>& aggregators);
  // Duplicate ids keep the first member given.
  explicit ShardMap(const std::vector<Member>& members);

  // No member at all; otherwise Lookup always finds one.
  bool empty() const { return refs_.empty(); }
  size_t size() const { return refs_.size(); }
  // True when there are members and every one is draining (so they take the
  // hosts anyway).
  bool all_draining() const { return all_draining_; }

  // Equal for maps that place every host alike (same members, addresses and
  // effective weights).
  uint64_t fingerprint() const { return fingerprint_; }

  // The aggregator for `host_id`, or nullptr when the map is empty. The
  // pointer lives as long as this map.
  const v1::AggregatorRef* Lookup(absl::string_view host_id) const;

  // The members, sorted by id.
  const std::vector<v1::AggregatorRef>& aggregators() const { return refs_; }

  // Number of hosts of `host_ids` assigned to each aggregator id (every
  // member appears, draining ones with 0 unless all are draining).
  std::map<std::string, uint32_t> Count(const std::vector<std::string>& host_ids) const;

 private:
  std::vector<v1::AggregatorRef> refs_;  // sorted by id
  // Parallel to refs_: the weight each takes hosts with, 0 while draining.
  std::vector<RendezvousNode> nodes_;
  bool all_draining_ = false;
  uint64_t fingerprint_ = 0;
};

}  // namespace andon::controller
