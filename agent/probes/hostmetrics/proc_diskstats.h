#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// One block device's cumulative I/O counters from /proc/diskstats.
struct DiskStats {
  std::string name;    // "sda", "nvme0n1p1", "cciss/c0d0"
  uint64_t reads = 0;  // completed
  uint64_t writes = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};

// Parses every line of /proc/diskstats (whole disks and partitions alike).
// Sectors there are always 512 bytes, whatever the device's sector size.
// Malformed lines are skipped; INVALID_ARGUMENT if none is well formed but the
// text is not empty.
absl::StatusOr<std::vector<DiskStats>> ParseProcDiskstats(absl::string_view text);

}  // namespace andon::agent
