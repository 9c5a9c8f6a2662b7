#include "controller/rendezvous_hash.h"

#include <cmath>

#include "common/hash.h"

namespace andon::controller {
namespace {

// The top 53 bits of `h` as a double strictly inside (0, 1): the midpoint of
// the h-th of 2^53 equal slices, so neither 0 (ln -> -inf) nor 1 (ln -> 0).
double UnitInterval(uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53; }

// -ln(u) is exponentially distributed, so weight / -ln(u) is the inverse of
// an exponential with rate `weight`: the largest of several such wins with
// probability proportional to its rate.
double ScoreOfHash(uint64_t h, uint32_t weight) {
  return weight == 0 ? 0 : static_cast<double>(weight) / -std::log(UnitInterval(h));
}

}  // namespace

uint64_t RendezvousHash(absl::string_view key, absl::string_view node) {
  uint64_t h = Fnv1a(kFnv1aOffset, key);
  h = Fnv1a(h, absl::string_view("\0", 1));  // separator: ("ab","c") != ("a","bc")
  h = Fnv1a(h, node);
  return Mix64(h);
}

double RendezvousScore(absl::string_view key, absl::string_view node, uint32_t weight) {
  return ScoreOfHash(RendezvousHash(key, node), weight);
}

int RendezvousPick(absl::string_view key, const std::vector<RendezvousNode>& nodes) {
  int best = -1;
  double best_score = 0;
  uint64_t best_hash = 0;
  for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
    const RendezvousNode& n = nodes[i];
    if (n.weight == 0) continue;
    const uint64_t h = RendezvousHash(key, n.id);
    const double score = ScoreOfHash(h, n.weight);
    if (best < 0 || score > best_score ||
        (score == best_score && (h > best_hash || (h == best_hash && n.id < nodes[best].id)))) {
      best = i;
      best_score = score;
      best_hash = h;
    }
  }
  return best;
}

}  // namespace andon::controller
