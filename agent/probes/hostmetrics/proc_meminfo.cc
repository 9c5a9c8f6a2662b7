#include "agent/probes/hostmetrics/proc_meminfo.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace andon::agent {

absl::StatusOr<MemoryBytes> ParseProcMeminfo(absl::string_view text) {
  std::optional<uint64_t> total, free, available;
  MemoryBytes out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    // "MemTotal:       16318412 kB"
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" :"), absl::SkipEmpty());
    uint64_t kb = 0;
    if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &kb)) continue;
    const uint64_t bytes = kb * 1024;
    if (fields[0] == "MemTotal") {
      total = bytes;
    } else if (fields[0] == "MemFree") {
      free = bytes;
    } else if (fields[0] == "MemAvailable") {
      available = bytes;
    } else if (fields[0] == "Buffers") {
      out.buffers = bytes;
    } else if (fields[0] == "Cached") {
      out.cached = bytes;
    }
  }
  if (!total || !free) return absl::InvalidArgumentError("no MemTotal or MemFree line");
  out.total = *total;
  out.free = *free;
  out.available = available ? *available : out.free + out.buffers + out.cached;
  out.used = out.total > out.available ? out.total - out.available : 0;
  return out;
}

}  // namespace andon::agent
