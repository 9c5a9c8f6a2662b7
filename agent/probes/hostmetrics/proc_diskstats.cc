#include "agent/probes/hostmetrics/proc_diskstats.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace andon::agent {

absl::StatusOr<std::vector<DiskStats>> ParseProcDiskstats(absl::string_view text) {
  // major minor name reads merged sectors_read ms writes merged sectors_written ...
  constexpr size_t kName = 2, kReads = 3, kSectorsRead = 5, kWrites = 7, kSectorsWritten = 9;
  constexpr uint64_t kSectorBytes = 512;
  std::vector<DiskStats> out;
  bool any_text = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    any_text = true;
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() <= kSectorsWritten) continue;
    DiskStats d;
    d.name = std::string(f[kName]);
    uint64_t sectors_read = 0, sectors_written = 0;
    if (!absl::SimpleAtoi(f[kReads], &d.reads) || !absl::SimpleAtoi(f[kWrites], &d.writes) ||
        !absl::SimpleAtoi(f[kSectorsRead], &sectors_read) ||
        !absl::SimpleAtoi(f[kSectorsWritten], &sectors_written)) {
      continue;
    }
    d.read_bytes = sectors_read * kSectorBytes;
    d.write_bytes = sectors_written * kSectorBytes;
    out.push_back(std::move(d));
  }
  if (any_text && out.empty()) return absl::InvalidArgumentError("no well-formed diskstats line");
  return out;
}

}  // namespace andon::agent
