#include "bench/agent_storm.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/proc_usage.h"
#include "bench/storm.h"
#include "common/status_macros.h"
#include "tests/harness/local_cluster.h"

namespace andon::bench {
namespace {

// After the probes attach: let start-up work (first windows, connections)
// finish before the idle measurement.
constexpr absl::Duration kSettle = absl::Seconds(3);

double Pct(double cpu_s, double wall_s) { return wall_s > 0 ? 100 * cpu_s / wall_s : 0; }

// The syscalls probe's event count in the agent's last heartbeat.
uint64_t SyscallsEvents(testing::LocalCluster& cluster) {
  absl::StatusOr<v1::Host> host = cluster.client().GetHost(cluster.host_id());
  if (!host.ok()) return 0;
  for (const v1::ProbeState& p : host->last_heartbeat().probes()) {
    if (p.key() == "syscalls") return p.events();
  }
  return 0;
}

struct Measured {
  double wall_s;
  ProcCpu cpu;
};

// The agent's CPU over `f()`.
template <typename F>
absl::StatusOr<Measured> Over(pid_t pid, F f) {
  ANDON_ASSIGN_OR_RETURN(ProcCpu before, ReadProcCpu(pid));
  const absl::Time t0 = absl::Now();
  f();
  const double wall = absl::ToDoubleSeconds(absl::Now() - t0);
  ANDON_ASSIGN_OR_RETURN(ProcCpu after, ReadProcCpu(pid));
  return Measured{wall, {after.user_s - before.user_s, after.system_s - before.system_s}};
}

}  // namespace

absl::StatusOr<AgentFigures> MeasureAgentUnderStorm(int cpu, absl::Duration idle,
                                                    absl::Duration storm) {
  testing::LocalCluster::Options options;
  options.host_id = absl::StrCat("probe-overhead-", getpid());
  options.agent_labels = "role=bench";
  testing::LocalCluster cluster(options);
  // The daemons inherit this thread's affinity: start them off the storm's CPU.
  AvoidCpu(cpu);
  absl::Status started = cluster.Start(absl::Seconds(60));
  ANDON_RETURN_IF_ERROR(PinTo(cpu));
  ANDON_RETURN_IF_ERROR(started);
  AgentFigures f;
  f.pid = cluster.agent()->pid();
  absl::SleepFor(kSettle);

  ANDON_ASSIGN_OR_RETURN(Measured i, Over(f.pid, [&] { absl::SleepFor(idle); }));
  f.idle_s = i.wall_s;
  f.idle_user_pct = Pct(i.cpu.user_s, i.wall_s);
  f.idle_system_pct = Pct(i.cpu.system_s, i.wall_s);

  f.syscalls_events_before = SyscallsEvents(cluster);
  int64_t storm_cpu_ns = 0;
  ANDON_ASSIGN_OR_RETURN(Measured s,
                         Over(f.pid, [&] { f.storm_calls = GetppidFor(storm, &storm_cpu_ns); }));
  f.storm_s = s.wall_s;
  f.storm_user_pct = Pct(s.cpu.user_s, s.wall_s);
  f.storm_system_pct = Pct(s.cpu.system_s, s.wall_s);
  f.storm_cpu_ns_per_call = f.storm_calls > 0 ? double(storm_cpu_ns) / f.storm_calls : 0;
  ANDON_ASSIGN_OR_RETURN(f.vm_hwm_kib, ReadProcStatusKib(f.pid, "VmHWM"));
  ANDON_ASSIGN_OR_RETURN(f.vm_rss_kib, ReadProcStatusKib(f.pid, "VmRSS"));

  // Heartbeats lag: give the agent a few seconds to report the storm's events.
  absl::SleepFor(absl::Seconds(6));  // one heartbeat interval (5 s) and some
  f.syscalls_events_after = SyscallsEvents(cluster);
  absl::StatusOr<v1::Host> host = cluster.client().GetHost(cluster.host_id());
  if (host.ok()) {
    for (const v1::ProbeState& p : host->last_heartbeat().probes()) {
      f.probes.push_back(
          absl::StrCat(p.key(), " ", v1::ProbeState::State_Name(p.state()), " ", p.attach_point()));
    }
  }
  return f;
}

}  // namespace andon::bench
