#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// Kernel function names from /proc/kallsyms (root sees real addresses).
// Immutable after Load, so thread-safe.
class KernelSymbols {
 public:
  // Fails if the file cannot be read or holds only zero addresses (not root).
  static absl::StatusOr<KernelSymbols> Load(const std::string& path = "/proc/kallsyms");

  // The function containing `addr`, or empty if none is known.
  absl::string_view Lookup(uint64_t addr) const;
  size_t size() const { return symbols_.size(); }

 private:
  struct Symbol {
    uint64_t addr;
    std::string name;
  };
  std::vector<Symbol> symbols_;  // by address
};

}  // namespace andon::agent
