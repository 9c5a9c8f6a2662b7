#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// One network interface's cumulative counters from /proc/net/dev.
struct NetDevStats {
  std::string interface;
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
};

// Parses /proc/net/dev (two header lines, then "  eth0: rx_bytes rx_packets
// ... (8 rx fields) tx_bytes tx_packets ..."). Malformed lines are skipped.
absl::StatusOr<std::vector<NetDevStats>> ParseProcNetDev(absl::string_view text);

}  // namespace andon::agent
