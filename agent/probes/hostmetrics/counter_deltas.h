#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace andon::agent {

// Turns cumulative counters read from the kernel into per-interval deltas.
// The first value of a key is only a baseline; a value below the previous one
// (a wrap, or a device re-created under the same name) yields nothing for that
// interval and becomes the new baseline, because the true delta is unknowable.
// Keys not updated during a round are forgotten at EndRound(), so devices that
// disappear do not accumulate. Not thread-safe.
class CounterDeltas {
 public:
  // The delta of `key` since its previous value, if there is a valid one.
  std::optional<uint64_t> Update(const std::string& key, uint64_t value) {
    auto [it, inserted] = last_.try_emplace(key, Entry{value, round_});
    Entry& e = it->second;
    const uint64_t previous = e.value;
    e.value = value;
    e.round = round_;
    if (inserted || value < previous) return std::nullopt;
    return value - previous;
  }

  // Forgets keys not updated since the previous EndRound().
  void EndRound() {
    absl::erase_if(last_, [this](const auto& kv) { return kv.second.round != round_; });
    ++round_;
  }

  size_t size() const { return last_.size(); }

 private:
  struct Entry {
    uint64_t value;
    uint64_t round;
  };
  absl::flat_hash_map<std::string, Entry> last_;
  uint64_t round_ = 0;
};

}  // namespace andon::agent
