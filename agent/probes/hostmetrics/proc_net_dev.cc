#include "agent/probes/hostmetrics/proc_net_dev.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace andon::agent {

absl::StatusOr<std::vector<NetDevStats>> ParseProcNetDev(absl::string_view text) {
  constexpr size_t kRxBytes = 0, kRxPackets = 1, kTxBytes = 8, kTxPackets = 9;
  std::vector<NetDevStats> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    // The name may run into the first number ("eth0:123"), so split at ':'.
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;  // a header line
    NetDevStats s;
    s.interface = std::string(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::vector<absl::string_view> f =
        absl::StrSplit(line.substr(colon + 1), ' ', absl::SkipEmpty());
    if (s.interface.empty() || f.size() <= kTxPackets) continue;
    if (!absl::SimpleAtoi(f[kRxBytes], &s.rx_bytes) ||
        !absl::SimpleAtoi(f[kRxPackets], &s.rx_packets) ||
        !absl::SimpleAtoi(f[kTxBytes], &s.tx_bytes) ||
        !absl::SimpleAtoi(f[kTxPackets], &s.tx_packets)) {
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace andon::agent
