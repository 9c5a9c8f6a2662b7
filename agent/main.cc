// andon-agent: loads the probes, windows their output and streams it to the
// aggregator the controller assigns. Parses flags and wires objects only.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent_metrics.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/collect_loop.h"
#include "agent/controller_client.h"
#include "agent/event_tail.h"
#include "agent/host_info.h"
#include "agent/ingest_client.h"
#include "agent/probe_factory.h"
#include "agent/probe_manager.h"
#include "agent/probes/syscalls/syscalls_probe.h"
#include "agent/spool.h"
#include "agent/window.h"
#include "common/clock.h"
#include "common/http/http_server.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/process.h"

ABSL_FLAG(std::string, controller, "127.0.0.1:7400", "Controller gRPC address, host:port.");
ABSL_FLAG(std::string, host_id, "", "This host's id in the fleet (default: the hostname).");
ABSL_FLAG(std::string, labels, "", "Operator labels for this host, e.g. role=db,rack=r1.");
ABSL_FLAG(std::string, http_addr, "127.0.0.1:7421", "Where to serve /metrics, host:port.");
ABSL_FLAG(std::string, spool_dir, "/var/lib/andon/agent/spool",
          "where windows wait on disk until an aggregator acknowledges them (kept across "
          "restarts); empty: in memory only");
ABSL_FLAG(int64_t, spool_max_mb, 256,
          "bound of the spool; past it the oldest windows are dropped and counted");
ABSL_FLAG(uint32_t, series_budget, 10000,
          "At most this many series of one metric per window; beyond, processes fold into "
          "comm=\"other\" (0: no limit).");
ABSL_FLAG(absl::Duration, window, absl::Seconds(1),
          "Aggregation window, aligned to the wall clock; divides 10s (e.g. 1s, 5s, 10s).");

namespace andon::agent {
namespace {

constexpr char kBtfPath[] = "/sys/kernel/btf/vmlinux";

// Prints why the agent cannot run; main returns its result, so that objects
// already built (probes, threads) are torn down by their destructors.
int Fail(const std::string& message) {
  fprintf(stderr, "andon-agent: %s\n", message.c_str());
  return 1;
}

// Explains a probe that would not load in terms of what the operator can do.
std::string LoadFailureAdvice(const Probe& probe, const absl::Status& s) {
  std::string msg = absl::StrCat("cannot load BPF probe '", probe.name(), "': ", s.message(), ".");
  if (absl::IsPermissionDenied(s)) {
    absl::StrAppend(&msg, " Run andon-agent as root (it needs CAP_BPF and CAP_PERFMON) on a ",
                    "kernel with BTF (", kBtfPath, ").");
  }
  return msg;
}

int Main(int argc, char** argv) {
  InitDaemon();
  absl::SetProgramUsageMessage("Andon host agent: eBPF probes streamed to the fleet.");
  absl::ParseCommandLine(argc, argv);

  const absl::Duration window = absl::GetFlag(FLAGS_window);
  if (window < absl::Milliseconds(10) || window > absl::Seconds(10) ||
      absl::Seconds(10) % window != absl::ZeroDuration()) {
    return Fail(absl::StrCat("--window=", absl::FormatDuration(window),
                             " must be at least 10ms and divide 10s evenly (e.g. 100ms, 1s, 2s, "
                             "5s, 10s): aggregators roll windows up into 10s, 1m and 1h"));
  }
  auto labels = ParseLabels(absl::GetFlag(FLAGS_labels));
  if (!labels.ok()) return Fail(absl::StrCat("--labels: ", labels.status().message()));
  std::string host_id = absl::GetFlag(FLAGS_host_id);
  if (host_id.empty()) host_id = LocalHostname();

  // Probes first: an agent that cannot trace should fail loudly at start,
  // not register with the controller and send nothing.
  std::error_code ec;
  if (!std::filesystem::exists(kBtfPath, ec)) {
    return Fail(absl::StrCat("this kernel exposes no BTF (", kBtfPath,
                             " is missing); andon-agent's ",
                             "CO-RE probes need a kernel built with CONFIG_DEBUG_INFO_BTF=y."));
  }
  InstallLibbpfLogger();
  {
    // One probe loaded and dropped at start: an agent without the privileges
    // to trace fails loudly here. Which probes run is the controller's to say.
    SyscallsProbe check({.latency = false});
    absl::Status s = check.Init();
    check.Stop();
    if (!s.ok()) return Fail(LoadFailureAdvice(check, s));
  }
  Clock* clock = RealClock::Get();
  ProbeManager probes(CreateProbe, clock);
  EventTail tail(&probes, clock);
  absl::Time last_events = clock->Now();

  auto registry = std::make_shared<prometheus::Registry>();
  AgentMetrics metrics(*registry);
  HttpServer http(registry);
  if (absl::Status s = http.Start(absl::GetFlag(FLAGS_http_addr)); !s.ok()) {
    return Fail(std::string(s.message()));
  }

  std::unique_ptr<Spool> spool;
  if (const std::string root = absl::GetFlag(FLAGS_spool_dir); !root.empty()) {
    // One spool per host id: another id's windows are not this host's to send.
    const std::string dir = absl::StrCat(root, "/", host_id);
    absl::StatusOr<std::unique_ptr<Spool>> opened = Spool::Open(
        {.dir = dir, .max_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_spool_max_mb)) << 20});
    if (!opened.ok()) return Fail(std::string(opened.status().message()));
    spool = std::move(*opened);
    ANDON_LOG(INFO) << "spooling unacknowledged windows in " << dir << " (at most "
                    << absl::GetFlag(FLAGS_spool_max_mb) << " MiB)";
  }
  IngestClient ingest({.sender_id = host_id, .spool = spool.get()}, metrics, clock);
  {
    // Until the controller says otherwise (it may hold changes made with
    // `andonctl label`), batches carry the labels of --labels.
    v1::HostLabels initial;
    initial.mutable_labels()->insert(labels->begin(), labels->end());
    ingest.SetHostLabels(std::move(initial));
  }
  ingest.Start();

  absl::Mutex fatal_mu;
  absl::Status fatal;
  ControllerCallbacks callbacks{
      .on_assignment = [&](const v1::AggregatorRef& a) { ingest.SetTarget(a.address()); },
      .on_probes = [&](const v1::ProbeSet& set) { probes.SetDesired(set); },
      .on_host_labels = [&](const v1::HostLabels& l) { ingest.SetHostLabels(l); },
      .probe_statuses = [&] { return probes.States(); },
      .applied_probe_version = [&] { return probes.AppliedVersion(); },
      .agent_stats =
          [&] {
            v1::AgentStats stats = ingest.stats();
            ProcessUsage usage = SelfUsage();
            stats.set_cpu_seconds(usage.cpu_seconds);
            stats.set_resident_bytes(usage.resident_bytes);
            return stats;
          },
      .on_tail = [&](const v1::EventTailRequest& r) { tail.Set(r); },
      .events =
          [&] {
            absl::Time now = clock->Now();
            absl::Duration since = now - last_events;
            last_events = now;
            return tail.Next(since);
          },
      .on_fatal =
          [&](const absl::Status& s) {
            {
              absl::MutexLock lock(&fatal_mu);
              fatal = s;
            }
            // Wakes WaitForTerminationSignal() below so main shuts down.
            kill(getpid(), SIGTERM);
          },
  };
  ControllerClient controller(
      {.address = absl::GetFlag(FLAGS_controller), .host = DescribeHost(host_id, *labels)},
      std::move(callbacks), metrics, clock);
  controller.Start();
  // A new probe set is acknowledged at once, not at the next heartbeat.
  probes.set_on_applied([&controller] { controller.ReportNow(); });

  WindowAccumulator accumulator(window, {[&] {
                                  v1::Label host;
                                  host.set_name("host");
                                  host.set_value(host_id);
                                  return host;
                                }()});
  accumulator.set_series_budget(absl::GetFlag(FLAGS_series_budget));
  CollectLoop loop(&probes, &accumulator, &ingest, metrics, clock);
  loop.Start();
  ANDON_LOG(INFO) << "andon-agent host '" << host_id << "' up; /metrics on " << http.port()
                  << ", controller " << absl::GetFlag(FLAGS_controller);

  int sig = WaitForTerminationSignal();
  ANDON_LOG(INFO) << "signal " << sig << ": shutting down";
  loop.Stop();
  controller.Stop();
  ingest.Stop();
  http.Stop();
  probes.StopAll();

  absl::MutexLock lock(&fatal_mu);
  if (!fatal.ok()) {
    return Fail(absl::StrCat("the controller refused this agent: ", fatal.message()));
  }
  return 0;
}

}  // namespace
}  // namespace andon::agent

int main(int argc, char** argv) { return andon::agent::Main(argc, argv); }
