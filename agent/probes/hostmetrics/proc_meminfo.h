#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// Memory levels from /proc/meminfo, in bytes.
struct MemoryBytes {
  uint64_t total = 0;
  uint64_t available = 0;
  uint64_t free = 0;
  uint64_t buffers = 0;
  uint64_t cached = 0;
  // total - available, as free(1) of procps-ng 4 reports it: memory the
  // kernel could not hand to a new workload without swapping.
  uint64_t used = 0;
};

// Parses MemTotal, MemFree, MemAvailable, Buffers and Cached (kB). Kernels
// before 3.14 have no MemAvailable; it is then estimated as free + buffers +
// cached. INVALID_ARGUMENT if MemTotal or MemFree is missing.
absl::StatusOr<MemoryBytes> ParseProcMeminfo(absl::string_view text);

}  // namespace andon::agent
