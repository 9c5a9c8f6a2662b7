#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace andon::bench {

// What the simulated agents of a worker process tell the simulator's main
// process, one text line each on a pipe: "<kind> <agent> <unix_ns> <arg>".
// Lines are short and written with one write(2) each, so lines from many
// threads never interleave (a pipe write up to PIPE_BUF is atomic).
enum class SimEvent : char {
  kRegistered = 'R',      // Register answered OK
  kRegisterFailed = 'F',  // Register failed (arg: gRPC status code)
  kAttached = 'A',        // a new control stream got its first probe set
  kControlLost = 'D',     // the control stream ended
  kApplied = 'P',         // a probe set was applied and acknowledged (arg: version)
  kStreaming = 'S',       // an ingest batch was acknowledged after the last mark
  kIngestLost = 'I',      // an ingest stream ended
};

class SimEventSink {
 public:
  explicit SimEventSink(int fd) : fd_(fd) {}
  // Thread-safe.
  void Emit(SimEvent kind, int agent, uint64_t arg = 0) const;

 private:
  int fd_;
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
