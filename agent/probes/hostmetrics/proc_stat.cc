#include "agent/probes/hostmetrics/proc_stat.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace andon::agent {

absl::StatusOr<CpuTimesMs> ParseProcStatCpu(absl::string_view text, uint64_t ticks_per_second) {
  if (ticks_per_second == 0) return absl::InvalidArgumentError("ticks per second must be > 0");
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.empty() || fields[0] != "cpu") continue;
    if (fields.size() < 5) break;  // user, nice, system, idle are always there
    CpuTimesMs out{};
    for (size_t i = 0; i < out.size() && i + 1 < fields.size(); ++i) {
      uint64_t ticks = 0;
      if (!absl::SimpleAtoi(fields[i + 1], &ticks)) break;
      // Converting cumulative values (not deltas) keeps the sum of deltas exact.
      out[i] = ticks * 1000 / ticks_per_second;
    }
    return out;
  }
  return absl::InvalidArgumentError("no aggregate 'cpu' line with at least 4 values");
}

}  // namespace andon::agent
