#include "bench/fleet_sim/sim_events.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace andon::bench {

void SimEventSink::Emit(SimEvent kind, int agent, uint64_t arg) {
  char line[96];
  const int n = std::snprintf(line, sizeof(line), "%c %d %lld %llu\n", static_cast<char>(kind),
                              agent, static_cast<long long>(absl::GetCurrentTimeNanos()),
                              static_cast<unsigned long long>(arg));
  absl::MutexLock lock(&mu_);
  pending_.append(line, static_cast<size_t>(n));
}

void SimEventSink::Flush() {
  {
    absl::MutexLock lock(&mu_);
    writing_.swap(pending_);
  }
  // The reader never stops reading before the workers exit.
  size_t done = 0;
  while (done < writing_.size()) {
    const ssize_t n = write(fd_, writing_.data() + done, writing_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  writing_.clear();
}

bool ParseSimEvent(absl::string_view line, ParsedSimEvent* out) {
  std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
  if (f.size() != 4 || f[0].size() != 1) return false;
  out->kind = static_cast<SimEvent>(f[0][0]);
  return absl::SimpleAtoi(f[1], &out->agent) && absl::SimpleAtoi(f[2], &out->unix_ns) &&
         absl::SimpleAtoi(f[3], &out->arg);
}

}  // namespace andon::bench
