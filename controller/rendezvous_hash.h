#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace andon::controller {

// Rendezvous (highest-random-weight) hashing: a key goes to the node with the
// highest weight(key, node). Removing a node moves only the keys it held;
// adding one takes only the keys it now wins. Weights are stable across
// processes and restarts (no per-process seed), so every controller replica
// computes the same assignment.

// The weight of `node` for `key`: a well-mixed 64-bit hash of the pair.
uint64_t RendezvousWeight(absl::string_view key, absl::string_view node);

// Index in `nodes` of the winning node for `key`, or -1 if `nodes` is empty.
// Ties (practically impossible) go to the smaller node name.
int RendezvousPick(absl::string_view key, const std::vector<std::string>& nodes);

}  // namespace andon::controller
