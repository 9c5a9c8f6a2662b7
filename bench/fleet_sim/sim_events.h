#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace andon::bench {

// What the simulated agents of a worker process tell the simulator's main
// process, one text line each on a pipe: "<kind> <agent> <unix_ns> <arg>".
// Each event is timed when it happens; lines are gathered in memory and
// written by Flush() (the worker's ticker, every few tens of milliseconds),
// so that 10,000 agents acknowledging a change cost the machine a few
// writes, not 10,000 of them on the cores the controller under test uses.
enum class SimEvent : char {
  kRegistered = 'R',      // Register answered OK
  kRegisterFailed = 'F',  // Register failed (arg: gRPC status code)
  kAttached = 'A',        // a new control stream got its first probe set
  kControlLost = 'D',     // the control stream ended
  kApplied = 'P',         // a probe set was applied and acknowledged (arg: version)
  kStreaming = 'S',       // an ingest batch was acknowledged after the last mark
  kIngestLost = 'I',      // an ingest stream ended
  kResent = 'E',          // unacknowledged batches sent again on a new stream (arg: how many)
  kSpoolDropped = 'X',    // the oldest unacknowledged batch dropped, the buffer full
};

class SimEventSink {
 public:
  explicit SimEventSink(int fd) : fd_(fd) {}
  // Thread-safe.
  void Emit(SimEvent kind, int agent, uint64_t arg = 0);
  // Writes what was emitted since the last call. Called by one thread at a
  // time.
  void Flush();

 private:
  const int fd_;
  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  std::string writing_;  // Flush()'s own
};

struct ParsedSimEvent {
  SimEvent kind;
  int agent = 0;
  int64_t unix_ns = 0;
  uint64_t arg = 0;
};
// False for a line that is not an event.
bool ParseSimEvent(absl::string_view line, ParsedSimEvent* out);

}  // namespace andon::bench
