#include "controller/rendezvous_hash.h"

namespace andon::controller {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t Fnv1a(uint64_t h, absl::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// splitmix64's finalizer: FNV alone leaves weights for similar names correlated.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint64_t RendezvousWeight(absl::string_view key, absl::string_view node) {
  uint64_t h = Fnv1a(kFnvOffset, key);
  h = Fnv1a(h, absl::string_view("\0", 1));  // separator: ("ab","c") != ("a","bc")
  h = Fnv1a(h, node);
  return Mix(h);
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
