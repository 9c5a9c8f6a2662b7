#pragma once

#include <cstdint>

namespace andon {

// Start-up common to every Andon daemon: turns off Abseil's mutex deadlock
// detection (Debian builds Abseil without NDEBUG, and the detector costs a
// lot under gRPC load), raises the open-file limit (RaiseOpenFileLimit) and
// blocks SIGINT/SIGTERM in every thread so that
// WaitForTerminationSignal() receives them. Call first in main().
void InitDaemon();

// Raises this process's soft limit on open files to its hard limit and
// returns the limit now in force (0 if it cannot be read). The usual soft
// limit, 1024, is about 1,000 agents' connections: past it gRPC's accept
// fails with EMFILE and a controller stops accepting.
uint64_t RaiseOpenFileLimit();

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

// This process's own cost: user+system CPU since it started, and resident
// memory now (zeros where /proc cannot be read).
struct ProcessUsage {
  double cpu_seconds = 0;
  uint64_t resident_bytes = 0;
};
ProcessUsage SelfUsage();

}  // namespace andon
