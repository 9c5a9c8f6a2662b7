#include "controller/rendezvous_hash.h"

#include "common/hash.h"

namespace andon::controller {

uint64_t RendezvousWeight(absl::string_view key, absl::string_view node) {
  uint64_t h = Fnv1a(kFnv1aOffset, key);
  h = Fnv1a(h, absl::string_view("\0", 1));  // separator: ("ab","c") != ("a","bc")
  h = Fnv1a(h, node);
  return Mix64(h);
}

int RendezvousPick(absl::string_view key, const std::vector<std::string>& nodes) {
  int best = -1;
  uint64_t best_weight = 0;
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
    uint64_t w = RendezvousWeight(key, nodes[i]);
    if (best < 0 || w > best_weight || (w == best_weight && nodes[i] < nodes[best])) {
      best = i;
      best_weight = w;
    }
  }
  return best;
}

}  // namespace andon::controller
