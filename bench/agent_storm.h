#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace andon::bench {

// What the real andon-agent process costs, idle and under a syscall storm.
struct AgentFigures {
  pid_t pid = 0;
  std::vector<std::string> probes;  // "key state attach_point", from its heartbeat
  double idle_s = 0, idle_user_pct = 0, idle_system_pct = 0;  // % of one core
  double storm_s = 0, storm_user_pct = 0, storm_system_pct = 0;
  int64_t storm_calls = 0;
  double storm_cpu_ns_per_call = 0;  // the storm thread's CPU time per getppid
  uint64_t syscalls_events_before = 0, syscalls_events_after = 0;  // from heartbeats
  uint64_t vm_hwm_kib = 0, vm_rss_kib = 0;
};

// Starts the real andon-controller, andon-aggregator and andon-agent
// (tests/harness LocalCluster: free loopback ports, a temporary data
// directory, off CPU `cpu`), waits until the agent runs the controller's
// default probe set, measures the agent's CPU for `idle`, then runs a
// getppid storm on the calling thread pinned to `cpu` for `storm` and
// measures again. The daemons are stopped (SIGTERM, then SIGKILL) before it
// returns.
absl::StatusOr<AgentFigures> MeasureAgentUnderStorm(int cpu, absl::Duration idle,
                                                    absl::Duration storm);

}  // namespace andon::bench
