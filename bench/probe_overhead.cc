// Probe overhead: what Andon's probes add to the code they observe, against
// bpftrace doing the same and against the least a BPF program can do, and
// what the real agent process costs under load. One run, three sections:
//  1. getppid storm: one thread pinned to one CPU times tight loops of
//     syscall(SYS_getppid) with no probe, Andon's `syscalls` probe counting
//     only and counting + latency (the default), bpftrace counting
//     @[comm, args->id] on tracepoint:raw_syscalls:sys_enter, and the floor
//     (floor.bpf.c: a per-CPU array counter on raw_tracepoint/sys_enter).
//  2. uprobe: uprobe_target (pinned to the same CPU) calls a function in a
//     tight loop with no probe, Andon's generic uprobe counting its calls,
//     and bpftrace `uprobe:BIN:FUNC { @ = count(); }`.
//  3. agent: the real controller, aggregator and agent with the default
//     probe set; the agent process's CPU and peak memory, idle and under the
//     getppid storm.
// Sections 1 and 2 interleave their modes (baseline, mode, baseline, ...,
// rotating the order each cycle) and compare each probe phase with the
// baselines on either side, by wall time and by the CPU time charged to the
// thread or process making the calls (where a BPF program's cost lands).
// Every probe's count is checked against the calls made. Prints markdown and
// PASS/FAIL against the goals; asserts nothing about timings.

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/generic/generic_probe.h"
#include "agent/probes/syscalls/syscalls_probe.h"
#include "bench/agent_storm.h"
#include "bench/bpftrace_child.h"
#include "bench/floor_probe.h"
#include "bench/hot_loop_child.h"
#include "bench/interleave.h"
#include "bench/probe_collector.h"
#include "bench/proc_usage.h"
#include "bench/storm.h"
#include "common/status_macros.h"

ABSL_FLAG(int64_t, calls, 300000, "getppid calls per timed round");
ABSL_FLAG(int, rounds, 5, "timed rounds per phase (one phase = one mode, attached once)");
ABSL_FLAG(int, cycles, 3, "cycles over all modes, per section");
ABSL_FLAG(int64_t, uprobe_calls, 200000, "calls of the hot function per timed round");
ABSL_FLAG(int, cpu, -1, "CPU to pin the hot loops to; -1 = the last allowed CPU");
ABSL_FLAG(std::string, bpftrace, "bpftrace", "bpftrace binary (looked up in PATH); empty = skip");
ABSL_FLAG(std::string, uprobe_target, UPROBE_TARGET, "the uprobe workload (uprobe_target.c)");
ABSL_FLAG(absl::Duration, budget, absl::Seconds(120),
          "per section: start no further cycle once it is projected to exceed this");
ABSL_FLAG(absl::Duration, agent_idle, absl::Seconds(10), "agent section: idle measurement");
ABSL_FLAG(absl::Duration, agent_storm, absl::Seconds(20), "agent section: storm measurement");
ABSL_FLAG(std::string, sections, "syscalls,uprobe,agent", "sections to run, comma-separated");

namespace andon::bench {
namespace {

// The timed loop's thread name: the (comm, syscall) key the probes count.
constexpr char kLoopComm[] = "andon_po_loop";
constexpr char kHitsMetric[] = "bench_hits";

// The goals of the remote-probes issue.
constexpr double kBpftraceShareGoal = 1.0 / 3;  // Andon counting / bpftrace, added ns
constexpr double kFloorFactorGoal = 1.5;        // Andon counting / floor, added ns
constexpr double kAgentUserCpuGoalPct = 1.0;    // of one core, under the storm
constexpr double kAgentHwmGoalMiB = 64;

struct Context {
  int cpu = 0;
  int64_t calls = 0, uprobe_calls = 0;
  int rounds = 0, cycles = 0;
  absl::Duration budget;
  std::string bpftrace;          // binary; empty if not usable
  std::string bpftrace_version;  // "bpftrace v0.17.0"
  std::optional<std::string> bpftrace_skip;
};

// ---- Section 1: getppid storm ------------------------------------------

// `cells`: the per-CPU cell tables in front of the hashes (the default);
// without them every key takes the per-CPU hash, as before the tables.
absl::StatusOr<PhaseOutcome> AndonSyscallsPhase(const Context& ctx, bool latency, bool cells,
                                                Rounds& out) {
  agent::SyscallsProbeOptions options;
  options.latency = latency;
  if (!cells) {
    options.count_cells = 0;
    options.latency_cells = 0;
  }
  agent::SyscallsProbe probe(options);
  ANDON_RETURN_IF_ERROR(probe.Init());
  PhaseOutcome o;
  const absl::Time t0 = absl::Now();
  int64_t made = 0;
  std::vector<v1::Point> points;
  {
    ProbeCollector collector(probe, ctx.cpu);
    made = GetppidRounds(ctx.calls, ctx.rounds, out);
    ANDON_ASSIGN_OR_RETURN(points, collector.Finish());
    o.probe_cpu_ns = collector.collect_cpu_ns();
  }
  o.attached_s = absl::ToDoubleSeconds(absl::Now() - t0);
  if (latency) {
    o.note = probe.uses_task_storage() ? "entry times in task storage"
                                       : "entry times in a hash by thread id";
  }
  probe.Stop();
  const std::vector<std::pair<std::string, std::string>> key = {{"comm", kLoopComm},
                                                                {"syscall", "getppid"}};
  o.checks["syscalls counter"] = {SumCounters(points, "syscalls", key), made};
  if (latency) {
    o.checks["syscall_latency_ns count"] = {
        SumDistributionCounts(points, "syscall_latency_ns", key), made};
  }
  return o;
}

// Runs `loop` with a bpftrace child running `script` attached; checks the
// value of `map_key` in its dump against the calls made.
absl::StatusOr<PhaseOutcome> BpftracePhase(const Context& ctx, const std::string& script,
                                           const std::string& map_key,
                                           const std::function<absl::StatusOr<int64_t>()>& loop) {
  ANDON_ASSIGN_OR_RETURN(std::unique_ptr<BpftraceChild> child,
                         BpftraceChild::Start(ctx.bpftrace, script, ctx.cpu));
  ANDON_RETURN_IF_ERROR(child->WaitAttached(absl::Seconds(30)));
  ANDON_ASSIGN_OR_RETURN(ProcCpu cpu0, ReadProcCpu(child->pid()));
  const absl::Time t0 = absl::Now();
  ANDON_ASSIGN_OR_RETURN(int64_t made, loop());
  ANDON_ASSIGN_OR_RETURN(ProcCpu cpu1, ReadProcCpu(child->pid()));
  PhaseOutcome o;
  o.attached_s = absl::ToDoubleSeconds(absl::Now() - t0);
  o.probe_cpu_ns =
      static_cast<int64_t>(1e9 * (cpu1.user_s + cpu1.system_s - cpu0.user_s - cpu0.system_s));
  const std::string dump = child->Stop(absl::Seconds(15));
  std::optional<uint64_t> n = BpftraceMapValue(dump, map_key);
  if (!n) {
    return absl::InternalError(absl::StrCat("no ", map_key, " in bpftrace's map dump"));
  }
  o.checks[absl::StrCat("bpftrace ", map_key)] = {*n, made};
  return o;
}

absl::StatusOr<PhaseOutcome> FloorPhase(const Context& ctx, bool with_exit, Rounds& out) {
  ANDON_ASSIGN_OR_RETURN(std::unique_ptr<FloorProbe> floor, FloorProbe::Start(with_exit));
  ANDON_ASSIGN_OR_RETURN(uint64_t before, floor->Count());
  const int64_t made = GetppidRounds(ctx.calls, ctx.rounds, out);
  ANDON_ASSIGN_OR_RETURN(uint64_t after, floor->Count());
  PhaseOutcome o;  // no user space: probe CPU stays 0 over 0 s
  o.checks[with_exit ? "runs on all CPUs (>= twice the loop's calls)"
                     : "runs on all CPUs (>= the loop's calls)"] = {after - before,
                                                                    with_exit ? 2 * made : made,
                                                                    /*at_least=*/true};
  return o;
}

enum SyscallMode {
  kAndonCount,
  kAndonLatency,
  kAndonCountHash,
  kBpftraceSys,
  kFloor,
  kFloorExit,
  kSyscallModes
};

std::vector<Mode> SyscallModes(const Context& ctx) {
  std::vector<Mode> modes(kSyscallModes);
  modes[kAndonCount] = {"andon syscalls, counts only (latency=false)",
                        [&ctx](Rounds& r) { return AndonSyscallsPhase(ctx, false, true, r); }};
  modes[kAndonLatency] = {"andon syscalls, counts + latency (latency=true, default)",
                          [&ctx](Rounds& r) { return AndonSyscallsPhase(ctx, true, true, r); }};
  modes[kAndonCountHash] = {
      "andon syscalls, counts only, per-CPU hash without the cell tables (the earlier design)",
      [&ctx](Rounds& r) { return AndonSyscallsPhase(ctx, false, false, r); }};
  modes[kBpftraceSys] = {
      absl::StrCat(ctx.bpftrace_version.empty() ? "bpftrace" : ctx.bpftrace_version,
                   " tracepoint:raw_syscalls:sys_enter @[comm, args->id] = count()"),
      [&ctx](Rounds& r) {
        return BpftracePhase(
            ctx, "tracepoint:raw_syscalls:sys_enter { @[comm, args->id] = count(); }",
            absl::StrCat("@[", kLoopComm, ", ", SYS_getppid, "]"),
            [&]() -> absl::StatusOr<int64_t> { return GetppidRounds(ctx.calls, ctx.rounds, r); });
      },
      ctx.bpftrace_skip};
  modes[kFloor] = {"floor: raw_tracepoint/sys_enter, per-CPU array counter",
                   [&ctx](Rounds& r) { return FloorPhase(ctx, false, r); }};
  modes[kFloorExit] = {"floor at sys_enter + sys_exit (the floor of counts + latency)",
                       [&ctx](Rounds& r) { return FloorPhase(ctx, true, r); }};
  return modes;
}

// ---- Section 2: uprobe --------------------------------------------------

absl::StatusOr<PhaseOutcome> AndonUprobePhase(const Context& ctx, const std::string& target,
                                              HotLoopChild& child, Rounds& out) {
  v1::GenericProbe spec;
  spec.set_type(v1::GenericProbe::UPROBE);
  spec.set_binary(target);
  spec.set_symbol(HotLoopChild::kFunction);
  spec.set_value_mode(v1::GenericProbe::COUNT);
  spec.set_metric(kHitsMetric);
  agent::GenericProbeOptions options;
  // Budget checked on every hit but never reached: every call is recorded,
  // the same work bpftrace does. (The agent's default, 100000/s, would skip
  // most of this loop's calls.)
  options.events_per_second = std::numeric_limits<uint32_t>::max();
  ANDON_ASSIGN_OR_RETURN(std::unique_ptr<agent::GenericProbe> probe,
                         agent::GenericProbe::Create(kHitsMetric, spec, {}, options));
  ANDON_RETURN_IF_ERROR(probe->Init());
  PhaseOutcome o;
  const absl::Time t0 = absl::Now();
  int64_t made = 0;
  std::vector<v1::Point> points;
  {
    ProbeCollector collector(*probe, ctx.cpu);
    absl::StatusOr<int64_t> m = child.RunRounds(ctx.uprobe_calls, ctx.rounds, out);
    absl::StatusOr<std::vector<v1::Point>> p = collector.Finish();
    if (!m.ok()) return m.status();
    if (!p.ok()) return p.status();
    made = *m;
    points = *std::move(p);
    o.probe_cpu_ns = collector.collect_cpu_ns();
  }
  o.attached_s = absl::ToDoubleSeconds(absl::Now() - t0);
  o.note = probe->status().attach_point();
  probe->Stop();
  o.checks[absl::StrCat(kHitsMetric, " counter")] = {SumCounters(points, kHitsMetric, {}), made};
  return o;
}

std::vector<Mode> UprobeModes(const Context& ctx, const std::string& target, HotLoopChild& child) {
  std::vector<Mode> modes(2);
  modes[0] = {"andon generic UPROBE, value_mode COUNT", [&ctx, &target, &child](Rounds& r) {
                return AndonUprobePhase(ctx, target, child, r);
              }};
  modes[1] = {
      absl::StrCat(ctx.bpftrace_version.empty() ? "bpftrace" : ctx.bpftrace_version,
                   " uprobe @ = count()"),
      [&ctx, &target, &child](Rounds& r) {
        return BpftracePhase(
            ctx, absl::StrCat("uprobe:", target, ":", HotLoopChild::kFunction, " { @ = count(); }"),
            "@", [&]() { return child.RunRounds(ctx.uprobe_calls, ctx.rounds, r); });
      },
      ctx.bpftrace_skip};
  return modes;
}

// ---- Printing ------------------------------------------------------------

std::string Ratio(double num, double den) {
  return den > 0 ? absl::StrFormat("%.2f", num / den) : std::string("n/a");
}

void PrintChecks(const InterleavedResult& r) {
  for (const ModeResult& m : r.modes) {
    if (m.skipped) {
      std::printf("- %s: skipped: %s\n", m.name.c_str(), m.skipped->c_str());
      continue;
    }
    for (const auto& [what, c] : m.checks) {
      const bool ok = c.at_least ? c.counted >= static_cast<uint64_t>(c.made)
                                 : c.counted == static_cast<uint64_t>(c.made);
      std::printf("- %s: %s %llu, calls made %lld: %s\n", m.name.c_str(), what.c_str(),
                  static_cast<unsigned long long>(c.counted), static_cast<long long>(c.made),
                  ok ? "ok" : "MISMATCH");
    }
    if (!m.note.empty()) std::printf("- %s: %s\n", m.name.c_str(), m.note.c_str());
  }
}

// `refs`: (column title, mode index) whose added CPU ns each row is divided by.
void PrintTable(const InterleavedResult& r, const char* unit,
                const std::vector<std::pair<std::string, size_t>>& refs) {
  std::printf("\n| mode | wall ns/%s | CPU ns/%s | added wall ns | added CPU ns |", unit, unit);
  for (const auto& [title, i] : refs) std::printf(" added CPU / %s |", title.c_str());
  std::printf(" probe's user-space CPU |\n|---|---|---|---|---|");
  for (size_t k = 0; k < refs.size(); ++k) std::printf("---|");
  std::printf("---|\n| no probe (baseline) | %.1f | %.1f | 0 | 0 |", r.baseline_wall,
              r.baseline_cpu);
  for (size_t k = 0; k < refs.size(); ++k) std::printf(" - |");
  std::printf(" - |\n");
  for (const ModeResult& m : r.modes) {
    if (!m.ran()) continue;
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f |", m.name.c_str(), m.MedianWall(), m.MedianCpu(),
                m.WallAdded(), m.CpuAdded());
    for (const auto& [title, i] : refs) {
      const ModeResult& ref = r.modes[i];
      std::printf(" %s |", ref.ran() ? Ratio(m.CpuAdded(), ref.CpuAdded()).c_str() : "n/a");
    }
    if (m.attached_s > 0) {
      std::printf(" %.2f%% of a core |\n", 100 * m.probe_cpu_ns / 1e9 / m.attached_s);
    } else {
      std::printf(" none |\n");
    }
  }
  std::printf("\nPer-phase added CPU ns/%s (each phase vs the baselines either side):", unit);
  for (const ModeResult& m : r.modes) {
    if (!m.ran()) continue;
    std::vector<std::string> v;
    for (double x : m.cpu_added) v.push_back(absl::StrFormat("%.1f", x));
    std::printf(" %s [%s];", m.name.c_str(), absl::StrJoin(v, ", ").c_str());
  }
  std::printf("\n\n");
}

std::string Verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

// ---- Sections --------------------------------------------------------------

absl::StatusOr<InterleavedResult> SyscallSection(const Context& ctx) {
  std::printf("### getppid storm (syscalls)\n\n");
  std::printf(
      "syscall(SYS_getppid) x %lld per round, %d rounds per phase, up to %d cycles, loop "
      "thread `%s` pinned to CPU %d; probes collected once per second off that CPU.\n\n",
      static_cast<long long>(ctx.calls), ctx.rounds, ctx.cycles, kLoopComm, ctx.cpu);
  ANDON_ASSIGN_OR_RETURN(InterleavedResult r, RunInterleaved(
                                                  [&](Rounds& out) {
                                                    GetppidRounds(ctx.calls, ctx.rounds, out);
                                                    return absl::OkStatus();
                                                  },
                                                  SyscallModes(ctx), ctx.cycles, ctx.budget));
  std::printf("cycles run: %d in %.1f s\n\n", r.cycles_run, r.seconds);
  PrintChecks(r);
  PrintTable(r, "call", {{"bpftrace", kBpftraceSys}, {"floor", kFloor}});
  return r;
}

absl::StatusOr<InterleavedResult> UprobeSection(const Context& ctx) {
  const std::string target = absl::GetFlag(FLAGS_uprobe_target);
  std::printf("### uprobe on a hot function\n\n");
  std::printf(
      "`%s` (-O0 -fno-inline) calls %s() x %lld per round, %d rounds per phase, up to %d "
      "cycles, pinned to CPU %d; CPU ns is the target process's own CPU time.\n\n",
      target.c_str(), HotLoopChild::kFunction, static_cast<long long>(ctx.uprobe_calls), ctx.rounds,
      ctx.cycles, ctx.cpu);
  ANDON_ASSIGN_OR_RETURN(std::unique_ptr<HotLoopChild> child, HotLoopChild::Start(target));
  ANDON_ASSIGN_OR_RETURN(
      InterleavedResult r,
      RunInterleaved(
          [&](Rounds& out) { return child->RunRounds(ctx.uprobe_calls, ctx.rounds, out).status(); },
          UprobeModes(ctx, target, *child), ctx.cycles, ctx.budget));
  std::printf("cycles run: %d in %.1f s\n\n", r.cycles_run, r.seconds);
  PrintChecks(r);
  PrintTable(r, "call", {{"bpftrace", 1}});
  return r;
}

absl::StatusOr<AgentFigures> AgentSection(const Context& ctx) {
  const absl::Duration idle = absl::GetFlag(FLAGS_agent_idle);
  const absl::Duration storm = absl::GetFlag(FLAGS_agent_storm);
  std::printf("### the real agent under the getppid storm\n\n");
  std::printf(
      "andon-controller, andon-aggregator and andon-agent on loopback with the controller's "
      "default probe set; %s idle, then %s of getppid on CPU %d (daemons kept off it).\n\n",
      absl::FormatDuration(idle).c_str(), absl::FormatDuration(storm).c_str(), ctx.cpu);
  std::fflush(stdout);
  ANDON_ASSIGN_OR_RETURN(AgentFigures f, MeasureAgentUnderStorm(ctx.cpu, idle, storm));
  std::printf("agent probes (last heartbeat): %s\n\n", absl::StrJoin(f.probes, "; ").c_str());
  std::printf(
      "| agent phase | seconds | agent user CPU, %% of one core | agent system CPU, %% |"
      " storm getppid/s | storm CPU ns/call |\n|---|---|---|---|---|---|\n");
  std::printf("| idle | %.1f | %.2f | %.2f | - | - |\n", f.idle_s, f.idle_user_pct,
              f.idle_system_pct);
  std::printf("| storm | %.1f | %.2f | %.2f | %.0f | %.1f |\n\n", f.storm_s, f.storm_user_pct,
              f.storm_system_pct, f.storm_s > 0 ? f.storm_calls / f.storm_s : 0,
              f.storm_cpu_ns_per_call);
  std::printf("agent max resident (VmHWM) %.1f MiB, resident at the end (VmRSS) %.1f MiB.  \n",
              f.vm_hwm_kib / 1024.0, f.vm_rss_kib / 1024.0);
  std::printf(
      "agent's syscalls probe events (heartbeats) grew by %llu during and just after the storm, "
      "which made %lld calls.\n\n",
      static_cast<unsigned long long>(f.syscalls_events_after - f.syscalls_events_before),
      static_cast<long long>(f.storm_calls));
  return f;
}

void PrintGoals(const std::optional<InterleavedResult>& sys,
                const std::optional<InterleavedResult>& up,
                const std::optional<AgentFigures>& agent) {
  std::printf("### goals\n\n");
  std::printf("Added ns per call by CPU time of the caller (wall clock in brackets).\n\n");
  if (sys) {
    const ModeResult& count = sys->modes[kAndonCount];
    const ModeResult& lat = sys->modes[kAndonLatency];
    const ModeResult& bt = sys->modes[kBpftraceSys];
    const ModeResult& fl = sys->modes[kFloor];
    auto line = [](const ModeResult& m, const ModeResult& ref, const char* what, double goal,
                   bool factor) {
      if (!m.ran() || !ref.ran() || ref.CpuAdded() <= 0) {
        std::printf("- %s: n/a (a mode did not run)\n", what);
        return;
      }
      const double r = m.CpuAdded() / ref.CpuAdded();
      std::printf("- %s: %.1f / %.1f ns = %.2f%s (wall %s), goal <= %.2f%s: %s\n", what,
                  m.CpuAdded(), ref.CpuAdded(), r, factor ? "x" : "",
                  Ratio(m.WallAdded(), ref.WallAdded()).c_str(), goal, factor ? "x" : "",
                  Verdict(r <= goal).c_str());
    };
    line(count, bt, "Andon syscalls counting adds at most 1/3 of what bpftrace adds",
         kBpftraceShareGoal, false);
    line(count, fl, "Andon syscalls counting adds at most 1.5x the floor", kFloorFactorGoal, true);
    // Attaching any program to sys_enter moves every syscall onto the kernel's
    // slow entry path, which the floor pays too; what each program does on
    // top of that is its added cost less the floor's.
    if (count.ran() && bt.ran() && fl.ran() && bt.CpuAdded() > fl.CpuAdded()) {
      std::printf(
          "- (no goal) above the floor, Andon's counting program costs %.1f ns and bpftrace's "
          "%.1f ns: ratio %s (the floor adds %.1f ns, %s of what bpftrace adds)\n",
          count.CpuAdded() - fl.CpuAdded(), bt.CpuAdded() - fl.CpuAdded(),
          Ratio(count.CpuAdded() - fl.CpuAdded(), bt.CpuAdded() - fl.CpuAdded()).c_str(),
          fl.CpuAdded(), Ratio(fl.CpuAdded(), bt.CpuAdded()).c_str());
    }
    line(sys->modes[kAndonCountHash], fl,
         "(for reference) counting through the per-CPU hash alone vs the floor", kFloorFactorGoal,
         true);
    line(lat, bt, "(for reference) counts + latency vs bpftrace", kBpftraceShareGoal, false);
    line(lat, fl, "(for reference) counts + latency vs the floor", kFloorFactorGoal, true);
    line(lat, sys->modes[kFloorExit],
         "(for reference) counts + latency vs the sys_enter + sys_exit floor", kFloorFactorGoal,
         true);
  }
  if (up) {
    const ModeResult& a = up->modes[0];
    const ModeResult& b = up->modes[1];
    if (a.ran() && b.ran()) {
      std::printf(
          "- (no goal) uprobe: Andon adds %.1f ns/call, bpftrace %.1f: ratio %s (wall %s)\n",
          a.CpuAdded(), b.CpuAdded(), Ratio(a.CpuAdded(), b.CpuAdded()).c_str(),
          Ratio(a.WallAdded(), b.WallAdded()).c_str());
    }
  }
  if (agent) {
    std::printf("- agent user CPU under the storm under %.0f%% of one core: %.2f%%: %s\n",
                kAgentUserCpuGoalPct, agent->storm_user_pct,
                Verdict(agent->storm_user_pct < kAgentUserCpuGoalPct).c_str());
    const double hwm = agent->vm_hwm_kib / 1024.0;
    std::printf("- agent max resident (VmHWM) under %.0f MiB: %.1f MiB: %s\n", kAgentHwmGoalMiB,
                hwm, Verdict(hwm < kAgentHwmGoalMiB).c_str());
  }
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "model name")) {
      return std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
    }
  }
  return "unknown";
}

int Run() {
  Context ctx;
  ctx.calls = absl::GetFlag(FLAGS_calls);
  ctx.uprobe_calls = absl::GetFlag(FLAGS_uprobe_calls);
  ctx.rounds = absl::GetFlag(FLAGS_rounds);
  ctx.cycles = absl::GetFlag(FLAGS_cycles);
  ctx.budget = absl::GetFlag(FLAGS_budget);
  ctx.cpu = absl::GetFlag(FLAGS_cpu) >= 0 ? absl::GetFlag(FLAGS_cpu) : LastAllowedCpu();
  if (ctx.calls <= 0 || ctx.uprobe_calls <= 0 || ctx.rounds <= 0 || ctx.cycles <= 0) {
    std::fprintf(stderr, "--calls, --uprobe_calls, --rounds and --cycles must be positive\n");
    return 1;
  }
  std::vector<std::string> sections = absl::StrSplit(absl::GetFlag(FLAGS_sections), ',');
  auto wanted = [&](const char* s) {
    return std::find(sections.begin(), sections.end(), s) != sections.end();
  };
  if (absl::Status s = PinTo(ctx.cpu); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  prctl(PR_SET_NAME, kLoopComm, 0, 0, 0);
  agent::InstallLibbpfLogger();
  ctx.bpftrace = absl::GetFlag(FLAGS_bpftrace);
  ctx.bpftrace_version = BpftraceChild::Version(ctx.bpftrace);
  if (ctx.bpftrace_version.empty()) {
    ctx.bpftrace_skip = ctx.bpftrace.empty() ? "disabled by --bpftrace=\"\""
                                             : absl::StrCat(ctx.bpftrace, " not found");
  }

  utsname uts = {};
  uname(&uts);
  std::printf("probe_overhead: machine %ld CPUs, %.0f GiB, %s, kernel %s; peer %s\n\n",
              sysconf(_SC_NPROCESSORS_ONLN),
              static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1 << 30),
              CpuModel().c_str(), uts.release,
              ctx.bpftrace_version.empty() ? "none" : ctx.bpftrace_version.c_str());
  const absl::Time start = absl::Now();
  int failures = 0;
  auto report = [&](const absl::Status& s, const char* section) {
    std::printf("%s section failed: %s\n\n", section, std::string(s.message()).c_str());
    ++failures;
  };
  std::optional<InterleavedResult> sys, up;
  std::optional<AgentFigures> agent;
  if (wanted("syscalls")) {
    absl::StatusOr<InterleavedResult> r = SyscallSection(ctx);
    if (r.ok())
      sys = *std::move(r);
    else
      report(r.status(), "syscalls");
    std::fflush(stdout);
  }
  if (wanted("uprobe")) {
    absl::StatusOr<InterleavedResult> r = UprobeSection(ctx);
    if (r.ok())
      up = *std::move(r);
    else
      report(r.status(), "uprobe");
    std::fflush(stdout);
  }
  if (wanted("agent")) {
    absl::StatusOr<AgentFigures> r = AgentSection(ctx);
    if (r.ok())
      agent = *std::move(r);
    else
      report(r.status(), "agent");
  }
  PrintGoals(sys, up, agent);
  std::printf("\nTotal run time %.0f s.\n", absl::ToDoubleSeconds(absl::Now() - start));
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
