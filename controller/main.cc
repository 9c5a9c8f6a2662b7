// andon-controller: the fleet's registry, shard assignment, query router, JSON
// API and web UI. Parses flags and wires the objects together.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/forward_rules.h"
#include "common/grpc_server.h"
#include "common/http/http_server.h"
#include "common/log.h"
#include "common/metric_catalog.h"
#include "common/process.h"
#include "controller/agent_control_service.h"
#include "controller/audit/audit_log.h"
#include "controller/audit/audit_service.h"
#include "controller/coalescing_task.h"
#include "controller/controller_metrics.h"
#include "controller/events/event_tails.h"
#include "controller/events/events_service.h"
#include "controller/fleet_api.h"
#include "controller/fleet_service.h"
#include "controller/http_api.h"
#include "controller/kv_store.h"
#include "controller/periodic_task.h"
#include "controller/probes/probe_api.h"
#include "controller/probes/probe_configs.h"
#include "controller/probes/probe_service.h"
#include "controller/query_router.h"
#include "controller/query_service.h"
#include "controller/registry.h"

ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:7400",
          "host:port for gRPC (AgentControl, Fleet, Query)");
ABSL_FLAG(std::string, http_addr, "127.0.0.1:7401",
          "host:port for the web UI, JSON API and /metrics");
ABSL_FLAG(std::string, data_dir, "", "directory of the controller's database (required)");
ABSL_FLAG(std::string, ui_dir, "", "directory of the built web UI (default: <binary dir>/../ui)");
ABSL_FLAG(bool, allow_remote_changes, false,
          "accept changes of probe configurations from peers not on loopback (there is no "
          "authentication yet: only with the ports firewalled)");
ABSL_FLAG(double, max_heartbeats_per_second, 500,
          "agents are told to heartbeat every hosts/N seconds (1 s to 30 s), so that the "
          "controller gets about N heartbeats a second however large the fleet (10,000 "
          "agents: every 20 s, stale after 60 s of silence)");
ABSL_FLAG(absl::Duration, host_ttl, absl::Seconds(30),
          "a host is live while its control stream is open or it was seen within this");
ABSL_FLAG(std::string, forward_rules, "",
          "labels a metric's series keep when aggregators forward them up the tree, "
          "\"METRIC:LABEL,LABEL;...\" (e.g. \"syscalls:syscall\"); a metric without a rule "
          "keeps every label but host");

namespace andon::controller {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "andon-controller: %s\n", message.c_str());
  return 1;
}

std::string DefaultUiDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "ui";
  return (exe.parent_path() / ".." / "ui").lexically_normal().string();
}

int Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    return Fail(
        "--data_dir is required: a directory for the controller's database, "
        "e.g. --data_dir /var/lib/andon/controller");
  }
  RegistryOptions registry_options;
  registry_options.host_ttl = absl::GetFlag(FLAGS_host_ttl);
  registry_options.max_heartbeats_per_second = absl::GetFlag(FLAGS_max_heartbeats_per_second);
  if (!(registry_options.max_heartbeats_per_second > 0)) {
    return Fail("--max_heartbeats_per_second must be positive");
  }
  if (registry_options.host_ttl <= absl::ZeroDuration()) return Fail("--host_ttl must be positive");
  absl::StatusOr<ForwardRules> forward_rules =
      ForwardRules::Parse(absl::GetFlag(FLAGS_forward_rules));
  if (!forward_rules.ok()) {
    return Fail(absl::StrCat("--forward_rules: ", forward_rules.status().message()));
  }
  registry_options.forward_rules = forward_rules->ToProto();
  std::string ui_dir = absl::GetFlag(FLAGS_ui_dir);
  if (ui_dir.empty()) ui_dir = DefaultUiDir();

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Fail(absl::StrCat("cannot create --data_dir '", data_dir, "': ", ec.message()));
  absl::StatusOr<std::unique_ptr<KvStore>> store = OpenRocksDbStore(data_dir);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  const Clock* clock = RealClock::Get();
  absl::StatusOr<std::unique_ptr<Registry>> registry =
      Registry::Open(store->get(), clock, registry_options);
  if (!registry.ok()) return Fail(std::string(registry.status().message()));

  absl::StatusOr<std::unique_ptr<AuditLog>> audit = AuditLog::Open(store->get(), clock);
  if (!audit.ok()) return Fail(std::string(audit.status().message()));

  MetricCatalog catalog;
  absl::StatusOr<std::unique_ptr<ProbeConfigs>> probe_configs =
      ProbeConfigs::Open(store->get(), clock, &catalog, audit->get());
  if (!probe_configs.ok()) return Fail(std::string(probe_configs.status().message()));

  auto prometheus_registry = std::make_shared<prometheus::Registry>();
  ControllerMetrics metrics(*prometheus_registry);
  auto router = std::make_unique<QueryRouter>(registry->get(), &catalog, clock, &metrics);
  AgentControlService agent_control(registry->get(), probe_configs->get(), &metrics);
  // A change's push to every host runs off the RPC that made it (the Put
  // answers at once), and a burst of changes is one push.
  CoalescingTask probe_pusher([&] { agent_control.PushProbeChanges(); });
  (*probe_configs)->set_on_change([&] { probe_pusher.Trigger(); });
  // Brings the applied-state tally to the stored configurations' version
  // (no stream is open yet).
  agent_control.PushProbeChanges();
  const bool allow_remote = absl::GetFlag(FLAGS_allow_remote_changes);
  if (allow_remote) {
    ANDON_LOG(WARNING) << "--allow_remote_changes: probe configurations may be changed from any "
                          "peer that reaches this controller";
  }
  ProbeApi probe_api(probe_configs->get(), registry->get(), &agent_control.applied(), allow_remote);
  EventTails tails(registry->get(), clock,
                   [&](const v1::TargetSelector& target, const v1::EventTailRequest& tail) {
                     return agent_control.SendTail(target, tail);
                   });
  agent_control.set_event_sink(
      [&](const std::string& host, const v1::EventBatch& batch) { tails.Add(host, batch); });
  EventsService events(&tails);
  HostLabelsApi labels(
      registry->get(), allow_remote, [&] { agent_control.PushProbeChanges(); }, audit->get());
  AggregatorDrainApi drains(registry->get(), allow_remote, audit->get());
  FleetService fleet(registry->get(), &labels, &drains);
  QueryService query(router.get());
  ProbeService probes(&probe_api);
  AuditService audit_service(audit->get());

  const std::string grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  int grpc_port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> started = StartGrpcServer(
      grpc_addr, {&agent_control, &fleet, &query, &probes, &events, &audit_service}, &grpc_port);
  if (!started.ok()) return Fail(std::string(started.status().message()));
  std::unique_ptr<grpc::Server> grpc_server = std::move(*started);

  http::ServerOptions http_options;
  http_options.on_response = [&metrics](int status) { metrics.CountHttpRequest(status); };
  HttpServer http(prometheus_registry, http_options);
  HttpApi api(registry->get(), router.get(), &probe_api, &metrics, ui_dir);
  api.set_event_tails(&tails);
  api.set_host_labels(&labels);
  api.set_aggregator_drains(&drains);
  api.set_audit_log(audit->get());
  api.Install(http.router());
  absl::Status http_started = http.Start(absl::GetFlag(FLAGS_http_addr));
  if (!http_started.ok()) {
    grpc_server->Shutdown();
    return Fail(std::string(http_started.message()));
  }

  PeriodicTask housekeeping(absl::Seconds(1), [&] {
    agent_control.PushAssignmentChanges();
    agent_control.PushHeartbeatInterval();
    (*probe_configs)->ExpireDue();  // pushes through on_change when one expired
    metrics.SetFleetCounts((*registry)->Counts());
  });
  metrics.SetFleetCounts((*registry)->Counts());
  housekeeping.Start();
  // Agents' changes to the registry are written behind, batched.
  PeriodicTask registry_writer(absl::Milliseconds(100), [&] {
    absl::Status s = (*registry)->Flush();
    if (!s.ok()) ANDON_LOG(WARNING) << "registry: cannot write changed hosts (will retry): " << s;
  });
  registry_writer.Start();

  ANDON_LOG(INFO) << "andon-controller serving gRPC on " << grpc_addr << " and HTTP on "
                  << absl::GetFlag(FLAGS_http_addr) << " (data in " << data_dir
                  << "; open-file limit " << RaiseOpenFileLimit() << ", about one per agent)";
  int sig = WaitForTerminationSignal();
  ANDON_LOG(INFO) << "signal " << sig << ": shutting down";

  housekeeping.Stop();
  registry_writer.Stop();
  probe_pusher.Stop();
  http.Stop();
  // Open control streams are cancelled at the deadline; Shutdown returns when
  // every RPC has ended.
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  // Its queues' threads run the streams' last completions (which reach the
  // services below): they stop before anything is destroyed.
  agent_control.StopServing();
  // The router's channels go while the server still holds gRPC's callback
  // queue, so that queue is never released from one of its own threads by a
  // query callback finishing late (grpc/grpc#32584).
  router.reset();
  ANDON_LOG(INFO) << "stopped";
  return 0;
}

}  // namespace
}  // namespace andon::controller

int main(int argc, char** argv) {
  andon::InitDaemon();
  absl::SetProgramUsageMessage(
      "andon-controller --data_dir DIR [--grpc_addr HOST:PORT] [--http_addr HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  return andon::controller::Run();
}
