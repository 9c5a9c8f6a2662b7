#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace andon {

// The project's one stable hash: FNV-1a over bytes, with splitmix64's
// finalizer where the bits must be well mixed. Stable across processes and
// versions (series ids on disk, shard choices, fleet fractions depend on it).

inline constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;
inline constexpr uint64_t kFnv1aPrime = 1099511628211ull;

// Continues an FNV-1a hash `h` over `s`.
inline uint64_t Fnv1a(uint64_t h, absl::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnv1aPrime;
  }
  return h;
}

// Continues an FNV-1a hash over one byte.
inline uint64_t Fnv1aByte(uint64_t h, unsigned char c) { return (h ^ c) * kFnv1aPrime; }

// splitmix64's finalizer: FNV alone leaves hashes of similar names correlated.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace andon
