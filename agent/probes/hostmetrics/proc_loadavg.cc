#include "agent/probes/hostmetrics/proc_loadavg.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace andon::agent {

absl::StatusOr<LoadAverages> ParseProcLoadavg(absl::string_view text) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  LoadAverages out{};
  if (fields.size() < out.size()) return absl::InvalidArgumentError("fewer than 3 load averages");
  for (size_t i = 0; i < out.size(); ++i) {
    if (!absl::SimpleAtod(fields[i], &out[i])) {
      return absl::InvalidArgumentError("a load average is not a number");
    }
  }
  return out;
}

}  // namespace andon::agent
