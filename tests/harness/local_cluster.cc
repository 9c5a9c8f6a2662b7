#include "tests/harness/local_cluster.h"

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "andon/v1/query.grpc.pb.h"
#include "common/status_macros.h"
#include "tests/harness/scrape.h"

namespace andon::testing {
namespace {

std::string Tail(const std::string& text, int lines) {
  size_t pos = text.size();
  for (int i = 0; i <= lines && pos != std::string::npos && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
  }
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

std::string Hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

std::string BinDir() {
  if (const char* env = std::getenv("ANDON_BIN_DIR"); env && *env) return env;
  return ANDON_BIN_DIR;
}

// A port free now that this process has not handed out before. The port is
// released at once (the daemon binds it later), so the kernel may offer it
// again to the next call before that daemon has bound it: remembering what
// was handed out keeps two daemons of one cluster off the same port.
int PickFreePort() {
  static absl::Mutex mu(absl::kConstInit);
  static std::set<int>* handed_out ABSL_GUARDED_BY(mu) = new std::set<int>;
  absl::MutexLock lock(&mu);
  for (int attempt = 0;; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    const int port = ntohs(addr.sin_port);
    if (handed_out->insert(port).second || attempt >= 100) return port;
  }
}

LocalCluster::LocalCluster(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/andon-e2e-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  host_id_ = options_.host_id.empty() ? Hostname() : options_.host_id;
}

LocalCluster::~LocalCluster() {
  // Agent first, then aggregator, then controller: the order quickstart uses.
  if (agent_) agent_->Stop(SIGTERM, absl::Seconds(10));
  for (Leaf& l : leaves_) {
    if (l.process) l.process->Stop(SIGTERM, absl::Seconds(10));
  }
  if (aggregator_) aggregator_->Stop(SIGTERM, absl::Seconds(10));
  if (controller_) controller_->Stop(SIGTERM, absl::Seconds(10));
  if (std::getenv("ANDON_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

absl::Status LocalCluster::WaitUntil(absl::Duration timeout, const std::string& what,
                                     const std::function<bool()>& ready) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (ready()) return absl::OkStatus();
    std::vector<Subprocess*> running = {controller_ ? &*controller_ : nullptr,
                                        aggregator_ ? &*aggregator_ : nullptr,
                                        agent_ ? &*agent_ : nullptr};
    for (Leaf& l : leaves_) running.push_back(l.process ? &*l.process : nullptr);
    for (Subprocess* p : running) {
      if (p != nullptr && !p->Running()) {
        return absl::InternalError(
            absl::StrCat("a daemon exited while waiting for ", what, "\n", LogTails()));
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("timed out waiting for ", what, "\n", LogTails()));
}

absl::Status LocalCluster::Start(absl::Duration timeout) {
  controller_grpc_port_ = PickFreePort();
  controller_http_port_ = PickFreePort();
  aggregator_grpc_port_ = PickFreePort();
  aggregator_http_port_ = PickFreePort();
  agent_http_port_ = PickFreePort();
  std::filesystem::create_directories(dir_ + "/controller");
  std::filesystem::create_directories(dir_ + "/aggregator");
  std::string bin = BinDir();

  ANDON_RETURN_IF_ERROR(StartController());
  ANDON_RETURN_IF_ERROR(StartAggregator());
  leaves_.resize(options_.leaves);
  for (int i = 0; i < options_.leaves; ++i) {
    leaves_[i].grpc_port = PickFreePort();
    leaves_[i].http_port = PickFreePort();
    ANDON_RETURN_IF_ERROR(StartLeaf(i));
  }
  auto client = sdk::Client::Create(controller_grpc());
  if (!client.ok()) return client.status();
  client_ = std::move(*client);
  client_->set_timeout(absl::Seconds(5));

  absl::Status s = options_.leaves > 0 ? WaitForTree(timeout) : WaitForLiveAggregator(timeout);
  if (!s.ok() || !options_.with_agent) return s;

  auto agent =
      Subprocess::Start({bin + "/andon-agent", "--controller", controller_grpc(), "--host_id",
                         host_id_, "--labels", options_.agent_labels, "--http_addr",
                         Addr(agent_http_port_), "--spool_dir", dir_ + "/agent-spool"},
                        dir_ + "/agent.log");
  if (!agent.ok()) return agent.status();
  agent_.emplace(std::move(*agent));
  // Probes attach when the controller's probe set arrives: wait until the
  // agent's heartbeat reports the default set applied, syscalls attached.
  return WaitUntil(timeout, "the agent's host to connect and attach its probes", [&] {
    auto host = client_->GetHost(host_id_);
    if (!host.ok() || !host->connected()) return false;
    if (host->last_heartbeat().applied_config_version() == 0) return false;
    for (const auto& p : host->last_heartbeat().probes()) {
      if (p.key() == "syscalls" && p.state() == v1::ProbeState::ATTACHED) return true;
    }
    return false;
  });
}

absl::Status LocalCluster::StartController() {
  auto ctl = Subprocess::Start({BinDir() + "/andon-controller", "--grpc_addr", controller_grpc(),
                                "--http_addr", controller_http(), "--data_dir",
                                dir_ + "/controller", "--forward_rules=" + options_.forward_rules},
                               dir_ + "/controller.log");
  if (!ctl.ok()) return ctl.status();
  controller_.emplace(std::move(*ctl));
  return absl::OkStatus();
}

absl::Status LocalCluster::StartAggregator() {
  auto agg = Subprocess::Start(
      Niced({BinDir() + "/andon-aggregator", "--id", "agg-e2e", "--grpc_addr", aggregator_grpc(),
             "--http_addr", aggregator_http(), "--data_dir", dir_ + "/aggregator", "--controller",
             controller_grpc(), "--role", options_.leaves > 0 ? "inner" : "leaf"}),
      dir_ + "/aggregator.log");
  if (!agg.ok()) return agg.status();
  aggregator_.emplace(std::move(*agg));
  return absl::OkStatus();
}

std::vector<std::string> LocalCluster::Niced(std::vector<std::string> argv) const {
  if (options_.aggregator_nice <= 0) return argv;
  argv.insert(argv.begin(), {"/usr/bin/nice", "-n", std::to_string(options_.aggregator_nice)});
  return argv;
}

absl::Status LocalCluster::StartLeaf(int i) {
  const std::string id = leaf_id(i);
  std::filesystem::create_directories(dir_ + "/" + id);
  auto leaf = Subprocess::Start(
      Niced({BinDir() + "/andon-aggregator", "--id", id, "--grpc_addr", leaf_grpc(i), "--http_addr",
             leaf_http(i), "--data_dir", dir_ + "/" + id, "--controller", controller_grpc(),
             "--parent", "agg-e2e", "--admission_delay", options_.leaf_admission_delay}),
      dir_ + "/" + id + ".log");
  if (!leaf.ok()) return leaf.status();
  leaves_[i].process.emplace(std::move(*leaf));
  return absl::OkStatus();
}

absl::Status LocalCluster::WaitForTree(absl::Duration timeout) {
  return WaitUntil(timeout, "the root and every leaf to be live", [&] {
    auto aggs = client_->ListAggregators();
    if (!aggs.ok()) return false;
    int live = 0;
    for (const auto& a : aggs->aggregators()) live += a.live() ? 1 : 0;
    return live == options_.leaves + 1;
  });
}

absl::Status LocalCluster::WaitForLeavesForwarded(absl::Duration timeout) {
  return WaitUntil(timeout, "the leaves to forward everything they hold", [&] {
    for (int i = 0; i < static_cast<int>(leaves_.size()); ++i) {
      if (!leaves_[i].process) continue;
      for (const char* m :
           {"andon_aggregator_forward_pending_points", "andon_aggregator_forward_outbox_batches"}) {
        absl::StatusOr<double> v = ScrapeMetric(leaf_http(i), m);
        if (!v.ok() || *v != 0) return false;
      }
    }
    return true;
  });
}

int LocalCluster::StopAgent(int signal) {
  if (!agent_) return -1;
  int status = agent_->Stop(signal, absl::Seconds(15));
  agent_.reset();
  return status;
}

void LocalCluster::StopLeaf(int i) {
  if (leaves_[i].process) leaves_[i].process->Stop(SIGTERM, absl::Seconds(15));
  leaves_[i].process.reset();
}

absl::Status LocalCluster::RestartLeaf(int i, int signal, absl::Duration timeout) {
  leaves_[i].process->Stop(signal, absl::Seconds(15));
  leaves_[i].process.reset();
  return ResumeLeaf(i, timeout);
}

absl::Status LocalCluster::ResumeLeaf(int i, absl::Duration timeout) {
  ANDON_RETURN_IF_ERROR(StartLeaf(i));
  // The controller counts the old process as live for a few seconds more:
  // wait until the new one answers a query itself.
  auto channel = grpc::CreateChannel(leaf_grpc(i), grpc::InsecureChannelCredentials());
  auto stub = v1::Query::NewStub(channel);
  return WaitUntil(timeout, "the restarted leaf to answer queries", [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::QueryRequest req =
        sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(1), absl::ZeroDuration());
    v1::QueryResponse resp;
    return stub->Query(&ctx, req, &resp).ok();
  });
}

absl::Status LocalCluster::WaitForLiveAggregator(absl::Duration timeout) {
  return WaitUntil(timeout, "a live aggregator", [&] {
    auto aggs = client_->ListAggregators();
    if (!aggs.ok()) return false;
    for (const auto& a : aggs->aggregators()) {
      if (a.live()) return true;
    }
    return false;
  });
}

absl::Status LocalCluster::StopCleanly(Subprocess& process, const std::string& name) {
  int status = process.Stop(SIGTERM, absl::Seconds(15));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(name, " did not exit cleanly on SIGTERM (wait status ", status, ")"));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::RestartController(absl::Duration timeout) {
  ANDON_RETURN_IF_ERROR(StopCleanly(*controller_, "andon-controller"));
  ANDON_RETURN_IF_ERROR(StartController());
  return WaitForLiveAggregator(timeout);
}

absl::Status LocalCluster::CrashController(absl::Duration timeout) {
  controller_->Stop(SIGKILL, absl::Seconds(10));
  ANDON_RETURN_IF_ERROR(StartController());
  return WaitForLiveAggregator(timeout);
}

absl::Status LocalCluster::RestartAggregator(absl::Duration timeout) {
  ANDON_RETURN_IF_ERROR(StopCleanly(*aggregator_, "andon-aggregator"));
  ANDON_RETURN_IF_ERROR(StartAggregator());
  // The controller still counts the old process as live for a few seconds:
  // wait until a query routed through the controller is answered.
  return WaitUntil(timeout, "the restarted aggregator to answer queries", [&] {
    auto req = sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(1), absl::ZeroDuration());
    return client_->Query(req).ok();
  });
}

absl::StatusOr<Subprocess> LocalCluster::StartExtraAggregator(const std::string& id,
                                                              std::string* grpc_address) {
  *grpc_address = Addr(PickFreePort());
  std::string data = dir_ + "/" + id;
  std::filesystem::create_directories(data);
  return Subprocess::Start(
      {BinDir() + "/andon-aggregator", "--id", id, "--grpc_addr", *grpc_address, "--http_addr",
       Addr(PickFreePort()), "--data_dir", data, "--controller", controller_grpc()},
      dir_ + "/" + id + ".log");
}

absl::StatusOr<Subprocess> LocalCluster::StartAgent(const std::string& host_id,
                                                    const std::string& log_name) {
  return Subprocess::Start(
      {BinDir() + "/andon-agent", "--controller", controller_grpc(), "--host_id", host_id,
       "--http_addr", Addr(PickFreePort()), "--spool_dir", dir_ + "/" + log_name + "-spool"},
      dir_ + "/" + log_name);
}

std::string LocalCluster::LogTails() const {
  std::string out;
  for (const char* name : {"controller", "aggregator", "leaf-1", "leaf-2", "agent"}) {
    std::ifstream in(dir_ + "/" + name + ".log");
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StrAppend(&out, "--- ", name, ".log (last lines)\n", Tail(ss.str(), 15));
  }
  return out;
}

}  // namespace andon::testing
