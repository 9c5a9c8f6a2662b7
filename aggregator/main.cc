// andon-aggregator: takes Ingest streams from agents (or child aggregators),
// stores windows in RocksDB under --data_dir, answers Query, and keeps itself
// registered with the controller.

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "aggregator/batch_validator.h"
#include "aggregator/controller_registrar.h"
#include "aggregator/forward/forwarder.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/ingest_service.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_service.h"
#include "aggregator/storage/rocksdb_series_store.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/http/http_server.h"
#include "common/log.h"
#include "common/process.h"
#include "common/status_macros.h"

ABSL_FLAG(std::string, id, "", "aggregator id (default: agg-<hostname>)");
ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:7410", "gRPC listen address (Ingest, Query)");
ABSL_FLAG(std::string, http_addr, "127.0.0.1:7411", "HTTP listen address (/metrics)");
ABSL_FLAG(std::string, data_dir, "", "directory of this aggregator's RocksDB data (required)");
ABSL_FLAG(std::string, controller, "127.0.0.1:7400",
          "controller gRPC host:port to register with; empty: do not register");
ABSL_FLAG(std::string, advertise_addr, "",
          "gRPC host:port agents should use (default: --grpc_addr)");
ABSL_FLAG(std::string, parent, "",
          "id of the aggregator to forward closed windows to (the controller gives its "
          "address); empty: this is a root");
ABSL_FLAG(std::string, role, "leaf",
          "leaf (takes hosts' streams) or inner (takes only its children's forwarded windows)");
ABSL_FLAG(uint32_t, weight, 100,
          "leaf: this aggregator's share of hosts relative to the other leaves' (200 takes twice "
          "the hosts of the default 100); 0 means the default");
ABSL_FLAG(absl::Duration, admission_delay, absl::Seconds(3),
          "with --parent: forward a window this long after it ends; later data goes up as an "
          "amendment (give an inner aggregator a longer delay than its children)");
ABSL_FLAG(std::string, retention, "",
          "how long each resolution of stored windows is kept, as LEVEL=DURATION pairs over the "
          "defaults raw=2h,10s=2d,1m=14d,1h=400d (e.g. raw=6h,1h=730d)");
ABSL_FLAG(int64_t, forward_outbox_batches, 7200,
          "with --parent: batches kept for the parent while it is unreachable; the oldest are "
          "dropped (and counted) past this");

namespace andon::aggregator {
namespace {

std::string Hostname() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "";
  return host;
}

std::string DefaultId() {
  std::string host = Hostname();
  return host.empty() ? "agg-unknown" : absl::StrCat("agg-", host);
}

// --advertise_addr, else --grpc_addr with the port actually bound. A
// wildcard listen address (0.0.0.0, [::]) means "all interfaces", which no
// agent can dial: advertise this machine's hostname instead.
absl::StatusOr<std::string> AdvertiseAddress(const std::string& grpc_addr, int port) {
  std::string advertise = absl::GetFlag(FLAGS_advertise_addr);
  if (!advertise.empty()) return advertise;
  std::string host;
  int unused = 0;
  ANDON_RETURN_IF_ERROR(SplitHostPort(grpc_addr, &host, &unused));
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    host = Hostname();
    if (host.empty()) {
      return absl::InvalidArgumentError(
          "--grpc_addr listens on all interfaces and the hostname is unknown: give "
          "--advertise_addr HOST:PORT, the address agents should dial");
    }
  }
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<v1::AggregatorRole> ParseRole(const std::string& role) {
  if (role == "leaf") return v1::AGGREGATOR_LEAF;
  if (role == "inner") return v1::AGGREGATOR_INNER;
  return absl::InvalidArgumentError(
      absl::StrCat("--role '", role, "' is not a role; use leaf (takes hosts) or inner"));
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    return absl::InvalidArgumentError(
        "--data_dir is required: the directory where this aggregator keeps its series");
  }
  std::string id = absl::GetFlag(FLAGS_id);
  if (id.empty()) id = DefaultId();
  const std::string grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  const std::string http_addr = absl::GetFlag(FLAGS_http_addr);

  absl::StatusOr<Retention> retention = ParseRetention(absl::GetFlag(FLAGS_retention));
  if (!retention.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--retention: ", retention.status().message()));
  }
  ANDON_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbSeriesStore> store,
                         RocksDbSeriesStore::Open(data_dir, StoreOptions{.retention = *retention}));
  auto registry = std::make_shared<prometheus::Registry>();
  IngestMetrics ingest_metrics = IngestMetrics::Create(*registry);
  MetricCatalog catalog;
  ANDON_ASSIGN_OR_RETURN(std::vector<v1::MetricInfo> declared, store->LoadMetricInfos());
  for (const v1::MetricInfo& m : declared) {
    absl::StatusOr<bool> learned = catalog.Declare(m);
    if (!learned.ok())
      ANDON_LOG(WARNING) << "ignoring stored metric descriptor: " << learned.status();
  }
  ANDON_ASSIGN_OR_RETURN(v1::AggregatorRole role, ParseRole(absl::GetFlag(FLAGS_role)));
  const std::string parent = absl::GetFlag(FLAGS_parent);
  if (parent == id) {
    return absl::InvalidArgumentError(
        absl::StrCat("--parent '", parent, "' is this aggregator's own id"));
  }
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<Forwarder> forwarder;
  if (!parent.empty()) {
    ANDON_ASSIGN_OR_RETURN(
        outbox, Outbox::Open(absl::StrCat(data_dir, "/forward"),
                             static_cast<size_t>(absl::GetFlag(FLAGS_forward_outbox_batches))));
    forwarder = std::make_unique<Forwarder>(
        ForwarderOptions{.id = id, .admission_delay = absl::GetFlag(FLAGS_admission_delay)},
        outbox.get(), store.get(), &catalog, RealClock::Get(), ForwardMetrics::Create(*registry));
    ANDON_RETURN_IF_ERROR(forwarder->Recover());
  }
  BatchValidator validator(RealClock::Get(), &catalog);
  QueryEngine engine(store.get(), &catalog);
  IngestService ingest(store.get(), &validator, &ingest_metrics, forwarder.get());
  QueryService query(&engine);

  HttpServer http(registry);
  ANDON_RETURN_IF_ERROR(http.Start(http_addr));
  int grpc_port = 0;
  ANDON_ASSIGN_OR_RETURN(std::unique_ptr<grpc::Server> server,
                         StartGrpcServer(grpc_addr, {&ingest, &query}, &grpc_port));
  ANDON_ASSIGN_OR_RETURN(std::string advertise, AdvertiseAddress(grpc_addr, grpc_port));
  ANDON_LOG(INFO) << "andon-aggregator '" << id << "' ("
                  << (role == v1::AGGREGATOR_LEAF ? "leaf" : "inner")
                  << (parent.empty() ? ", a root" : absl::StrCat(", forwarding to '", parent, "'"))
                  << ") serving gRPC on port " << grpc_port << " (advertised as " << advertise
                  << "), HTTP on " << http_addr << ", data in " << data_dir
                  << " (kept: " << RetentionToString(*retention) << ")";
  if (forwarder != nullptr) forwarder->Start();

  std::unique_ptr<ControllerRegistrar> registrar;
  const std::string controller = absl::GetFlag(FLAGS_controller);
  if (controller.empty()) {
    ANDON_LOG(WARNING) << "no --controller given: not registering; agents will not be assigned";
  } else {
    if (!parent.empty()) {
      ANDON_LOG(WARNING) << "--parent given but no --controller: the parent's address is "
                            "never learned, so nothing is forwarded";
    }
    registrar = std::make_unique<ControllerRegistrar>(RegistrarOptions{
        .controller = controller,
        .id = id,
        .address = advertise,
        .http_address = http_addr,
        .parent_id = parent,
        .role = role,
        .weight = absl::GetFlag(FLAGS_weight),
        .on_registered = [f = forwarder.get()](const v1::RegisterAggregatorResponse& r) {
          if (f == nullptr) return;
          f->SetParent(r.parent());
          absl::Status s = f->SetRules(
              std::vector<v1::ForwardRule>(r.forward_rules().begin(), r.forward_rules().end()));
          if (!s.ok()) ANDON_LOG(ERROR) << "keeping forwarding rules: " << s.message();
        }});
    registrar->Start();
  }

  const int sig = WaitForTerminationSignal();
  ANDON_LOG(INFO) << "signal " << sig << " received; shutting down";
  if (registrar != nullptr) registrar->Stop();
  if (forwarder != nullptr) forwarder->Stop();
  // Agents keep their ingest streams open indefinitely, so waiting for them
  // to end is pointless: give in-flight batches a moment, then cancel. An
  // agent resends what was not acknowledged to its next aggregator.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  ingest.StopServing();  // no batch is handled after this: the store may close
  http.Stop();
  ANDON_RETURN_IF_ERROR(store->Close());
  ANDON_LOG(INFO) << "stopped";
  return absl::OkStatus();
}

}  // namespace
}  // namespace andon::aggregator

int main(int argc, char** argv) {
  andon::InitDaemon();
  absl::SetProgramUsageMessage("andon-aggregator --data_dir DIR [--controller HOST:PORT] ...");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    ANDON_LOG(ERROR) << "unexpected argument '" << args[1] << "' (flags are --name=value)";
    return 2;
  }
  absl::Status status = andon::aggregator::Run();
  if (!status.ok()) {
    ANDON_LOG(ERROR) << status.message();
    return 1;
  }
  return 0;
}
