#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace andon::controller {

// Weighted rendezvous (highest-random-weight) hashing: a key goes to the node
// with the highest score(key, node) = weight / -ln(u), u being the pair's
// hash mapped into (0, 1). Each node then wins a share of the keys
// proportional to its weight; removing a node moves only the keys it held,
// adding one takes only the keys it now wins, and changing one node's weight
// moves keys only to or from that node. Scores are stable across processes
// and restarts (no per-process seed), so every controller replica computes
// the same assignment. With equal weights the winner is the node with the
// highest hash, as in unweighted rendezvous hashing.

// The hash of the pair (`key`, `node`): well mixed, from common/hash.h.
uint64_t RendezvousHash(absl::string_view key, absl::string_view node);

// weight / -ln(u) for the pair's hash mapped into (0, 1); 0 for weight 0.
double RendezvousScore(absl::string_view key, absl::string_view node, uint32_t weight);

struct RendezvousNode {
  std::string id;
  uint32_t weight = 0;
};

// Index in `nodes` of the winning node for `key`, or -1 when no node has a
// positive weight (a node of weight 0 never wins). Ties (practically
// impossible) go to the higher hash, then to the smaller node name.
int RendezvousPick(absl::string_view key, const std::vector<RendezvousNode>& nodes);

}  // namespace andon::controller
