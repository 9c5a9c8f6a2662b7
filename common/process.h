#pragma once

namespace andon {

// Start-up common to every Andon daemon: turns off Abseil's mutex deadlock
// detection (Debian builds Abseil without NDEBUG, and the detector costs a
// lot under gRPC load) and blocks SIGINT/SIGTERM in every thread so that
// WaitForTerminationSignal() receives them. Call first in main().
void InitDaemon();

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace andon
