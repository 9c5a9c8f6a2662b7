#pragma once

#include "absl/time/time.h"

namespace andon::bench {

struct SimWorkerOptions {
  int first = 0;  // the agents' indexes: [first, first + count)
  int count = 0;
  absl::Duration ingest_interval = absl::Seconds(5);
};

// The body of one worker process of the fleet simulator (forked before the
// main process starts gRPC): simulates its share of the agents (SimAgent)
// and reports their events on `event_fd`. Obeys lines on `command_fd`:
//   start ADDRESS   every agent starts registering with the controller there
//   mark            every agent reports its next acknowledged ingest batch
//   quit            (or end of input) stop every agent, wait for its calls, return
// A worker holds two connections per agent, so its share must stay under
// half the process's open-file limit. Returns the process's exit code.
int RunSimWorker(const SimWorkerOptions& options, int command_fd, int event_fd);

}  // namespace andon::bench
