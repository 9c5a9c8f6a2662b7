// Fleet simulator: N simulated agents (default 10,000) against the real
// controller, a root and several leaf aggregators (tests/harness
// LocalCluster, loopback), over real gRPC with one TCP connection per agent
// to the controller and one to its leaf. The agents are split across a few
// worker processes, forked before anything else starts, because a process
// here may hold at most 20,000 open files.
//
// Phases, each with its figures:
//  1. cold start: every agent registers at once; time until all are
//     registered and until all have an ingest batch acknowledged by a leaf;
//  2. steady state: the controller's CPU (% of one core) and resident
//     memory per connected agent, with the default probe configuration
//     applied and every host's applied state held;
//  3. configuration changes: a new probe configuration for every host, time
//     from the change to each agent's acknowledgment (p50/p99/max), and
//     until the controller's status counts every host applied;
//  4. fleet-wide queries through the controller while the fleet streams, by
//     gRPC one at a time and by the JSON API from 8 clients at once;
//  5. a leaf's kill -9 and restart: time until every agent streams again,
//     its agents sending again what the leaf had not acknowledged;
//  6. controller kill -9 and restart: time until every agent is back on a
//     control stream and streaming, and the failed registrations meanwhile.
// Prints a markdown table (bench/run.sh puts it in bench/RESULTS.md); exits
// non-zero if a phase does not complete.

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/fleet_sim/fleet_log.h"
#include "bench/fleet_sim/sim_worker.h"
#include "bench/proc_usage.h"
#include "common/host_port.h"
#include "common/process.h"
#include "sdk/client.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/scrape.h"

ABSL_FLAG(int, agents, 10000, "simulated agents");
ABSL_FLAG(int, workers, 4, "worker processes the agents are split across");
ABSL_FLAG(int, leaves, 4, "leaf aggregators under the root");
ABSL_FLAG(absl::Duration, ingest_interval, absl::Seconds(5),
          "each agent sends a batch of 15 points this often");
ABSL_FLAG(absl::Duration, steady, absl::Seconds(20), "steady-state measurement");
ABSL_FLAG(int, changes, 3, "probe configuration changes timed");
ABSL_FLAG(int, queries, 50, "fleet-wide queries timed");
ABSL_FLAG(bool, restart, true, "kill -9 and restart the controller under the fleet");
ABSL_FLAG(bool, leaf_crash, true,
          "kill -9 and restart the first leaf under the fleet: its agents send again what it "
          "had not acknowledged");
ABSL_FLAG(absl::Duration, phase_timeout, absl::Seconds(120), "give up a phase after this");
ABSL_FLAG(int, fleet_nice, 10,
          "nice value of the simulated agents and the aggregators (0: none), so that the "
          "controller under test gets the CPU it would have on its own machine; what each "
          "part used is reported");
ABSL_FLAG(bool, check, false,
          "run as a test (ctest fleet_restart_storm): also fail when a fleet-wide query fails, "
          "or when after the restart the controller does not count every agent up, once, on "
          "one live leaf");

namespace andon::bench {
namespace {

struct Worker {
  pid_t pid = 0;
  int command_fd = -1;  // parent's write end
  int event_fd = -1;    // parent's read end
};

// Forks `count` workers splitting `agents`; call before any thread exists.
std::vector<Worker> ForkWorkers(int agents, int count, absl::Duration ingest_interval, int nice) {
  std::vector<Worker> workers;
  for (int w = 0; w < count; ++w) {
    int command[2], event[2];
    if (pipe(command) != 0 || pipe(event) != 0) {
      std::perror("fleet_sim: pipe");
      std::exit(1);
    }
    const int first = agents * w / count, last = agents * (w + 1) / count;
    pid_t pid = fork();
    if (pid == 0) {
      close(command[1]);
      close(event[0]);
      for (const Worker& other : workers) {
        close(other.command_fd);
        close(other.event_fd);
      }
      // Before any thread: every thread of the worker inherits it.
      if (nice > 0 && setpriority(PRIO_PROCESS, 0, nice) != 0) std::perror("fleet_sim: nice");
      std::_Exit(
          RunSimWorker({.first = first, .count = last - first, .ingest_interval = ingest_interval},
                       command[0], event[1]));
    }
    close(command[0]);
    close(event[1]);
    workers.push_back({pid, command[1], event[0]});
  }
  return workers;
}

void Tell(const std::vector<Worker>& workers, const std::string& command) {
  const std::string line = command + "\n";
  for (const Worker& w : workers) {
    if (write(w.command_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      std::perror("fleet_sim: telling a worker");
    }
  }
}

// Reads one worker's events into `log` until the worker closes its end.
void ReadEvents(int fd, FleetLog* log) {
  std::string buffer;
  char chunk[65536];
  while (true) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      ParsedSimEvent e;
      if (ParseSimEvent(absl::string_view(buffer).substr(start, nl - start), &e)) log->Add(e);
    }
    buffer.erase(0, start);
  }
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double RssKib(pid_t pid) {
  absl::StatusOr<uint64_t> kib = ReadProcStatusKib(pid, "VmRSS");
  return kib.ok() ? static_cast<double>(*kib) : 0;
}

double SinceMs(int64_t from_ns, int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e6;
}

class Simulation {
 public:
  Simulation(std::vector<Worker> workers, int agents)
      : workers_(std::move(workers)), agents_(agents), log_(agents) {}

  // Runs every phase; false (with the reason on stderr) when one fails.
  bool Run();
  void Print() const;

 private:
  bool Fail(const std::string& what) {
    std::fprintf(stderr, "fleet_sim: %s\n%s\n", what.c_str(),
                 cluster_ ? cluster_->LogTails().c_str() : "");
    return false;
  }
  // Waits until every agent's `at` is after `since_ns`; `what` names it.
  bool WaitAll(const std::string& what, int64_t since_ns, int64_t FleetLog::Agent::*at);
  // The latest `at` over the agents.
  int64_t Latest(int64_t FleetLog::Agent::*at);
  bool ColdStart();
  bool SteadyState();
  bool ConfigChanges();
  // The controller's andon_controller_probe_push_seconds, sum and count,
  // from its /metrics; nullopt when it cannot be read.
  std::optional<std::pair<double, double>> PushSeconds();
  bool Queries();
  bool JsonQueries();
  bool ControllerRestart();
  bool LeafCrash();
  // With --check: the controller knows exactly the simulated agents, every
  // one up and on a leaf.
  bool ControllerCountsEveryAgentOnce();
  void Row(const std::string& name, const std::string& value, const std::string& goal = "") {
    rows_.push_back(absl::StrFormat("| %s | %s | %s |", name, value, goal));
  }
  pid_t controller_pid() { return cluster_->controller().pid(); }
  // Failed registrations since `before` (by code), as "N (CODE n, ...)".
  std::string FailedRegistrations(const std::map<int, uint64_t>& before) {
    uint64_t total = 0;
    std::string by_code;
    for (const auto& [code, n] : log_.failed_registrations_by_code()) {
      auto b = before.find(code);
      const uint64_t since = n - (b == before.end() ? 0 : b->second);
      if (since == 0) continue;
      total += since;
      absl::StrAppend(&by_code, by_code.empty() ? "" : ", ",
                      absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), " ", since);
    }
    return total == 0 ? "0" : absl::StrCat(total, " (", by_code, ")");
  }
  // CPU seconds used so far, by part.
  struct CpuUse {
    double controller = 0, leaves = 0, root = 0, simulator = 0;
  };
  CpuUse Cpu() {
    CpuUse c;
    c.controller = CpuSecondsOf(controller_pid());
    for (int i = 0; i < absl::GetFlag(FLAGS_leaves); ++i) {
      c.leaves += CpuSecondsOf(cluster_->leaf(i)->pid());
    }
    c.root = CpuSecondsOf(cluster_->aggregator().pid());
    for (const Worker& w : workers_) c.simulator += CpuSecondsOf(w.pid);
    return c;
  }
  // Where the machine's CPU went in a phase: a storm is only as fast as the
  // two cores that every process here shares.
  void CpuRow(const std::string& phase, const CpuUse& before, const CpuUse& after, double seconds) {
    Row(phase + ": CPU seconds used (controller / leaves / root / simulator)",
        absl::StrFormat("%.1f / %.1f / %.1f / %.1f in %.1f s wall",
                        after.controller - before.controller, after.leaves - before.leaves,
                        after.root - before.root, after.simulator - before.simulator, seconds));
  }

  std::vector<Worker> workers_;
  const int agents_;
  FleetLog log_;
  std::vector<std::thread> readers_;
  std::unique_ptr<testing::LocalCluster> cluster_;
  double rss_before_kib_ = 0;
  std::vector<std::string> rows_;
};

bool Simulation::WaitAll(const std::string& what, int64_t since_ns, int64_t FleetLog::Agent::*at) {
  const int n = agents_;
  auto count = [&](const std::vector<FleetLog::Agent>& agents) {
    return CountAgents(agents, [&](const FleetLog::Agent& a) { return a.*at > since_ns; });
  };
  if (log_.WaitFor(absl::GetFlag(FLAGS_phase_timeout),
                   [&](const auto& agents) { return count(agents) == n; })) {
    return true;
  }
  int done = 0;
  log_.Read([&](const auto& agents) { done = count(agents); });
  return Fail(absl::StrCat(what, ": only ", done, " of ", n, " agents after ",
                           absl::FormatDuration(absl::GetFlag(FLAGS_phase_timeout))));
}

int64_t Simulation::Latest(int64_t FleetLog::Agent::*at) {
  int64_t latest = 0;
  log_.Read([&](const auto& agents) {
    for (const auto& a : agents) latest = std::max(latest, a.*at);
  });
  return latest;
}

bool Simulation::ColdStart() {
  rss_before_kib_ = RssKib(controller_pid());
  const CpuUse cpu0 = Cpu();
  const int64_t t0 = absl::GetCurrentTimeNanos();
  Tell(workers_, "start " + cluster_->controller_grpc());
  Tell(workers_, "mark");
  if (!WaitAll("cold start: registered", 0, &FleetLog::Agent::first_registered_ns)) return false;
  if (!WaitAll("cold start: streaming", 0, &FleetLog::Agent::last_streaming_ns)) return false;
  const int64_t registered = Latest(&FleetLog::Agent::first_registered_ns);
  const int64_t streaming = Latest(&FleetLog::Agent::last_streaming_ns);
  Row("cold start: all agents registered",
      absl::StrFormat("%.2f s", SinceMs(t0, registered) / 1e3));
  Row("cold start: all agents registered and streaming",
      absl::StrFormat("%.2f s", SinceMs(t0, streaming) / 1e3), "≤ 5 s");
  // The shape of the storm: when the first half and nine in ten were done.
  std::vector<double> registered_ms, streaming_ms;
  log_.Read([&](const auto& agents) {
    for (const auto& a : agents) {
      registered_ms.push_back(SinceMs(t0, a.first_registered_ns));
      streaming_ms.push_back(SinceMs(t0, a.last_streaming_ns));
    }
  });
  Row("cold start: registered, p50 / p90 of agents",
      absl::StrFormat("%.2f s / %.2f s", Percentile(registered_ms, 0.5) / 1e3,
                      Percentile(registered_ms, 0.9) / 1e3));
  Row("cold start: streaming, p50 / p90 of agents",
      absl::StrFormat("%.2f s / %.2f s", Percentile(streaming_ms, 0.5) / 1e3,
                      Percentile(streaming_ms, 0.9) / 1e3));
  Row("cold start: failed registrations", FailedRegistrations({}));
  Row("cold start: ingest streams that ended (and were opened again)",
      absl::StrCat(log_.ingest_losses()));
  CpuRow("cold start", cpu0, Cpu(), SinceMs(t0, streaming) / 1e3);
  return true;
}

bool Simulation::SteadyState() {
  // Settle: every agent attached and heartbeating, the storm's garbage gone.
  if (!WaitAll("steady state: attached", 0, &FleetLog::Agent::last_attached_ns)) return false;
  absl::SleepFor(absl::Seconds(5));
  const pid_t pid = controller_pid();
  const double cpu0 = CpuSecondsOf(pid);
  std::vector<double> leaf_cpu0;
  for (int i = 0; i < absl::GetFlag(FLAGS_leaves); ++i) {
    leaf_cpu0.push_back(CpuSecondsOf(cluster_->leaf(i)->pid()));
  }
  const double root_cpu0 = CpuSecondsOf(cluster_->aggregator().pid());
  const absl::Duration steady = absl::GetFlag(FLAGS_steady);
  absl::SleepFor(steady);
  const double seconds = absl::ToDoubleSeconds(steady);
  const double cpu = (CpuSecondsOf(pid) - cpu0) / seconds;
  double leaves = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_leaves); ++i) {
    leaves += CpuSecondsOf(cluster_->leaf(i)->pid()) - leaf_cpu0[i];
  }
  const double rss = RssKib(pid);
  absl::StatusOr<v1::ListHostsResponse> hosts = cluster_->client().ListHosts([] {
    v1::ListHostsRequest r;
    r.set_state(v1::HOST_UP);
    r.set_page_size(1);
    return r;
  }());
  Row("steady: hosts up (controller's count)",
      hosts.ok() ? absl::StrCat(hosts->counts().total()) : std::string(hosts.status().message()));
  Row("steady: controller CPU", absl::StrFormat("%.1f %% of one core", 100 * cpu), "≤ 10 %");
  Row("steady: controller resident memory",
      absl::StrFormat("%.0f MiB (%.0f MiB before the agents)", rss / 1024, rss_before_kib_ / 1024));
  Row("steady: controller memory per connected agent",
      absl::StrFormat("%.1f KiB", (rss - rss_before_kib_) / agents_), "≤ 48 KB");
  Row("steady: leaves' CPU, all together",
      absl::StrFormat("%.1f %% of one core", 100 * leaves / seconds));
  Row("steady: root CPU",
      absl::StrFormat("%.1f %% of one core",
                      100 * (CpuSecondsOf(cluster_->aggregator().pid()) - root_cpu0) / seconds));
  return true;
}

std::optional<std::pair<double, double>> Simulation::PushSeconds() {
  const std::string at = cluster_->controller_http();
  absl::StatusOr<double> sum = testing::ScrapeMetric(at, "andon_controller_probe_push_seconds_sum");
  absl::StatusOr<double> count =
      testing::ScrapeMetric(at, "andon_controller_probe_push_seconds_count");
  if (!sum.ok() || !count.ok()) return std::nullopt;
  return std::make_pair(*sum, *count);
}

bool Simulation::ConfigChanges() {
  const std::optional<std::pair<double, double>> push0 = PushSeconds();
  std::vector<double> latencies;
  double worst_status_ms = 0;
  CpuUse spent;  // from each change until every agent has it
  double spent_wall = 0;
  for (int c = 0; c < absl::GetFlag(FLAGS_changes); ++c) {
    v1::PutProbeConfigRequest put;
    put.set_name(absl::StrCat("fleet_sim_", c));
    put.add_probes()->set_probe(c % 2 == 0 ? "tcp" : "biolatency");
    const CpuUse cpu0 = Cpu();
    const int64_t t0 = absl::GetCurrentTimeNanos();
    absl::StatusOr<v1::ProbeConfig> config = cluster_->client().PutProbeConfig(put);
    if (!config.ok()) return Fail(absl::StrCat("probe change: ", config.status().message()));
    const uint64_t version = config->version();
    const int n = agents_;
    auto applied = [&](const std::vector<FleetLog::Agent>& agents) {
      return CountAgents(agents, [&](const auto& a) { return AppliedAt(a, version) != 0; });
    };
    if (!log_.WaitFor(absl::GetFlag(FLAGS_phase_timeout),
                      [&](const auto& agents) { return applied(agents) == n; })) {
      int done = 0;
      log_.Read([&](const auto& agents) { done = applied(agents); });
      return Fail(absl::StrCat("probe change ", c, ": ", done, " of ", n, " agents applied it"));
    }
    const CpuUse cpu1 = Cpu();
    spent.controller += cpu1.controller - cpu0.controller;
    spent.leaves += cpu1.leaves - cpu0.leaves;
    spent.root += cpu1.root - cpu0.root;
    spent.simulator += cpu1.simulator - cpu0.simulator;
    spent_wall += SinceMs(t0, absl::GetCurrentTimeNanos()) / 1e3;
    log_.Read([&](const auto& agents) {
      for (const auto& a : agents) latencies.push_back(SinceMs(t0, AppliedAt(a, version)));
    });
    // And until the controller's own status says so (from the heartbeats).
    absl::Status counted = cluster_->WaitUntil(
        absl::GetFlag(FLAGS_phase_timeout), "the controller to count every host applied", [&] {
          auto status = cluster_->client().ProbeStatus(put.name());
          return status.ok() && status->hosts_applied() == static_cast<uint32_t>(n);
        });
    if (!counted.ok()) return Fail(std::string(counted.message()));
    worst_status_ms = std::max(worst_status_ms, SinceMs(t0, absl::GetCurrentTimeNanos()));
  }
  Row(absl::StrFormat("probe change → every agent's acknowledgment (%d changes × %d agents)",
                      absl::GetFlag(FLAGS_changes), agents_),
      absl::StrFormat("p50 %.0f ms, p99 %.0f ms, max %.0f ms", Percentile(latencies, 0.5),
                      Percentile(latencies, 0.99), Percentile(latencies, 1.0)),
      "p99 ≤ 350 ms");
  Row("probe change → controller's status counts every host applied (worst change)",
      absl::StrFormat("%.0f ms (polled)", worst_status_ms));
  const std::optional<std::pair<double, double>> push1 = PushSeconds();
  if (push0 && push1 && push1->second > push0->second) {
    Row("probe change → controller's walk: every new set computed and handed to its stream, "
        "mean per walk (andon_controller_probe_push_seconds)",
        absl::StrFormat("%.0f ms",
                        1e3 * (push1->first - push0->first) / (push1->second - push0->second)));
  }
  const int changes = std::max(1, absl::GetFlag(FLAGS_changes));
  Row("probe change → every agent has it: CPU seconds per change (controller / leaves / root / "
      "simulator)",
      absl::StrFormat("%.2f / %.2f / %.2f / %.2f in %.2f s wall", spent.controller / changes,
                      spent.leaves / changes, spent.root / changes, spent.simulator / changes,
                      spent_wall / changes));
  return true;
}

bool Simulation::Queries() {
  std::vector<double> ms;
  int failed = 0;
  std::string error;
  for (int q = 0; q < absl::GetFlag(FLAGS_queries); ++q) {
    v1::QueryRequest req = sdk::MakeRangeQuery(q % 2 == 0 ? "syscalls" : "cpu_ms", absl::Now(),
                                               absl::Minutes(5), absl::Seconds(10));
    req.add_group_by(q % 2 == 0 ? "comm" : "mode");
    const absl::Time t0 = absl::Now();
    absl::StatusOr<v1::QueryResponse> resp = cluster_->client().Query(req);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (!resp.ok()) {
      ++failed;
      error = std::string(resp.status().message());
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (absl::GetFlag(FLAGS_check) && failed > 0) {
    return Fail(absl::StrCat(failed, " of ", absl::GetFlag(FLAGS_queries),
                             " fleet-wide queries failed, the last with: ", error));
  }
  Row(absl::StrFormat("fleet-wide query while streaming (%d queries, 5 min at 10 s step)",
                      absl::GetFlag(FLAGS_queries)),
      absl::StrFormat("p50 %.1f ms, p99 %.1f ms%s", Percentile(ms, 0.5), Percentile(ms, 0.99),
                      failed > 0 ? absl::StrCat("; ", failed, " failed (", error, ")") : ""),
      "p99 ≤ 100 ms");
  return true;
}

// The same fleet-wide queries through the controller's JSON API, from
// several clients at once (the web UI's path): each answer must come back
// 200, and the latency is measured per request.
bool Simulation::JsonQueries() {
  constexpr int kClients = 8;
  const int per_client = std::max(1, absl::GetFlag(FLAGS_queries) / kClients);
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(cluster_->controller_http(), &host, &port); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  absl::Mutex mu;
  std::vector<double> ms;
  int failed = 0;
  std::string error;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http(host, port);
      http.set_keep_alive(true);
      // Nagle left on (httplib's default), as a naive client has it: the server
      // acknowledges at once, so headers and body sent apart cost no 40 ms.
      http.set_read_timeout(30);
      for (int q = 0; q < per_client; ++q) {
        v1::QueryRequest req =
            sdk::MakeRangeQuery((c + q) % 2 == 0 ? "syscalls" : "cpu_ms", absl::Now(),
                                absl::Minutes(5), absl::Seconds(10));
        req.add_group_by((c + q) % 2 == 0 ? "comm" : "mode");
        std::string body;
        (void)google::protobuf::util::MessageToJsonString(req, &body);
        const absl::Time t0 = absl::Now();
        httplib::Result res = http.Post("/api/v1/query", body, "application/json");
        const double took = absl::ToDoubleMilliseconds(absl::Now() - t0);
        absl::MutexLock lock(&mu);
        ms.push_back(took);
        if (!res || res->status != 200) {
          ++failed;
          error = res ? absl::StrCat("HTTP ", res->status, ": ", res->body.substr(0, 200))
                      : httplib::to_string(res.error());
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  if (absl::GetFlag(FLAGS_check) && failed > 0) {
    return Fail(absl::StrCat(failed, " of ", ms.size(),
                             " fleet-wide JSON queries failed, the last with: ", error));
  }
  Row(absl::StrFormat("fleet-wide query through the JSON API while streaming (%d clients at "
                      "once, %d queries)",
                      kClients, static_cast<int>(ms.size())),
      absl::StrFormat("p50 %.1f ms, p99 %.1f ms%s", Percentile(ms, 0.5), Percentile(ms, 0.99),
                      failed > 0 ? absl::StrCat("; ", failed, " failed (", error, ")") : ""),
      "p99 ≤ 100 ms");
  return true;
}

bool Simulation::LeafCrash() {
  const uint64_t lost0 = log_.ingest_losses();
  const uint64_t resent0 = log_.resent_batches();
  const uint64_t dropped0 = log_.dropped_batches();
  const int64_t t0 = absl::GetCurrentTimeNanos();
  if (absl::Status s = cluster_->RestartLeaf(0, SIGKILL); !s.ok()) {
    return Fail(absl::StrCat("leaf restart: ", s.message()));
  }
  Tell(workers_, "mark");
  if (!WaitAll("after a leaf's kill -9: streaming", t0, &FleetLog::Agent::last_streaming_ns)) {
    return false;
  }
  const int64_t streaming = Latest(&FleetLog::Agent::last_streaming_ns);
  const uint64_t dropped = log_.dropped_batches() - dropped0;
  Row(absl::StrFormat("leaf kill -9 → every agent's next batch acknowledged (one every %s)",
                      absl::FormatDuration(absl::GetFlag(FLAGS_ingest_interval))),
      absl::StrFormat("%.2f s", SinceMs(t0, streaming) / 1e3));
  Row("leaf kill -9 → ingest streams ended / batches sent again / batches dropped",
      absl::StrCat(log_.ingest_losses() - lost0, " / ", log_.resent_batches() - resent0, " / ",
                   dropped));
  if (absl::GetFlag(FLAGS_check) && dropped > 0) {
    return Fail(absl::StrCat(dropped, " batches dropped unacknowledged after a leaf's restart"));
  }
  return true;
}

bool Simulation::ControllerRestart() {
  const std::map<int, uint64_t> failed_before = log_.failed_registrations_by_code();
  CpuUse cpu0 = Cpu();
  const int64_t t0 = absl::GetCurrentTimeNanos();
  if (absl::Status s = cluster_->CrashController(); !s.ok()) {
    return Fail(absl::StrCat("controller restart: ", s.message()));
  }
  cpu0.controller = 0;  // a new process
  if (!WaitAll("after the controller's restart: back on a control stream", t0,
               &FleetLog::Agent::last_attached_ns)) {
    return false;
  }
  const int64_t back = Latest(&FleetLog::Agent::last_attached_ns);
  const CpuUse cpu_back = Cpu();
  const int64_t mark = absl::GetCurrentTimeNanos();
  Tell(workers_, "mark");
  if (!WaitAll("after the controller's restart: streaming", mark,
               &FleetLog::Agent::last_streaming_ns)) {
    return false;
  }
  const int64_t streaming = Latest(&FleetLog::Agent::last_streaming_ns);
  if (absl::GetFlag(FLAGS_check) && !ControllerCountsEveryAgentOnce()) return false;
  Row("controller kill -9 → every agent back on a control stream",
      absl::StrFormat("%.2f s", SinceMs(t0, back) / 1e3), "≤ 10 s");
  Row(absl::StrFormat("controller kill -9 → every agent's next batch acknowledged (one every %s)",
                      absl::FormatDuration(absl::GetFlag(FLAGS_ingest_interval))),
      absl::StrFormat("%.2f s", SinceMs(t0, streaming) / 1e3));
  Row("controller kill -9 → failed registrations meanwhile", FailedRegistrations(failed_before));
  CpuRow("controller kill -9 → every agent back", cpu0, cpu_back, SinceMs(t0, back) / 1e3);
  return true;
}

bool Simulation::ControllerCountsEveryAgentOnce() {
  v1::ListHostsRequest request;
  request.set_page_size(1);
  std::string last;
  absl::Status s = cluster_->WaitUntil(
      absl::GetFlag(FLAGS_phase_timeout), "the restarted controller to count every agent", [&] {
        absl::StatusOr<v1::ListHostsResponse> hosts = cluster_->client().ListHosts(request);
        if (!hosts.ok()) {
          last = std::string(hosts.status().message());
          return false;
        }
        const v1::HostCounts& c = hosts->counts();
        last = absl::StrCat(c.total(), " hosts known, ",
                            c.by_state().contains("up") ? c.by_state().at("up") : 0, " up, ",
                            c.by_aggregator().contains("") ? c.by_aggregator().at("") : 0,
                            " without an aggregator");
        uint32_t on_leaves = 0;
        for (const auto& [aggregator, n] : c.by_aggregator()) {
          if (!aggregator.empty()) on_leaves += n;
        }
        const uint32_t n = static_cast<uint32_t>(agents_);
        return c.total() == n && c.by_state().contains("up") && c.by_state().at("up") == n &&
               on_leaves == n;
      });
  if (!s.ok()) return Fail(absl::StrCat(s.message(), " (last: ", last, ")"));
  return true;
}

bool Simulation::Run() {
  for (const Worker& w : workers_) readers_.emplace_back(ReadEvents, w.event_fd, &log_);
  cluster_ = std::make_unique<testing::LocalCluster>(testing::LocalCluster::Options{
      .with_agent = false,
      .leaves = absl::GetFlag(FLAGS_leaves),
      // Windows close after the agents' whole batch
      // arrived: a batch every ingest interval
      // holds that many 1 s windows.
      .leaf_admission_delay =
          absl::FormatDuration(absl::GetFlag(FLAGS_ingest_interval) + absl::Seconds(2)),
      .aggregator_nice = absl::GetFlag(FLAGS_fleet_nice)});
  bool ok = true;
  if (absl::Status s = cluster_->Start(); !s.ok()) {
    ok = Fail(absl::StrCat("cluster: ", s.message()));
  }
  // Then the workers are told to quit and their readers joined, however it
  // ended.
  ok = ok && ColdStart() && SteadyState() && ConfigChanges() && Queries() && JsonQueries() &&
       (!absl::GetFlag(FLAGS_leaf_crash) || LeafCrash()) &&
       (!absl::GetFlag(FLAGS_restart) || ControllerRestart());
  Tell(workers_, "quit");
  for (Worker& w : workers_) {
    int status = 0;
    waitpid(w.pid, &status, 0);
    close(w.command_fd);
  }
  for (std::thread& t : readers_) t.join();
  Row("whole run: ingest streams that ended / batches sent again on the next stream / batches "
      "dropped from a full resend buffer",
      absl::StrCat(log_.ingest_losses(), " / ", log_.resent_batches(), " / ",
                   log_.dropped_batches()));
  for (Worker& w : workers_) close(w.event_fd);
  cluster_.reset();
  return ok;
}

void Simulation::Print() const {
  std::printf(
      "fleet_sim: %d simulated agents in %d worker processes (one TCP connection per agent to "
      "the controller, one to its leaf), a controller, a root and %d leaves on this machine; each "
      "agent heartbeats at the controller's interval and sends 15 points every %s%s\n\n",
      agents_, static_cast<int>(workers_.size()), absl::GetFlag(FLAGS_leaves),
      absl::FormatDuration(absl::GetFlag(FLAGS_ingest_interval)).c_str(),
      absl::GetFlag(FLAGS_fleet_nice) > 0
          ? absl::StrFormat(
                "; the simulated agents and the aggregators run at nice %d, standing in for "
                "other machines, so that the controller gets the CPU it would have on its own",
                absl::GetFlag(FLAGS_fleet_nice))
                .c_str()
          : "");
  std::printf("| measure | figure | goal |\n|---|---|---|\n");
  for (const std::string& r : rows_) std::printf("%s\n", r.c_str());
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::InitializeSymbolizer(argv[0]);
  absl::ParseCommandLine(argc, argv);
  // A worker that crashes says where, on stderr (inherited by the workers).
  absl::InstallFailureSignalHandler({});
  const int agents = absl::GetFlag(FLAGS_agents);
  const int workers = std::max(1, absl::GetFlag(FLAGS_workers));
  // Forked first: before this process has a thread or a gRPC object.
  std::vector<andon::bench::Worker> forked = andon::bench::ForkWorkers(
      agents, workers, absl::GetFlag(FLAGS_ingest_interval), absl::GetFlag(FLAGS_fleet_nice));
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  andon::bench::Simulation sim(std::move(forked), agents);
  const bool ok = sim.Run();
  sim.Print();
  return ok ? 0 : 1;
}
