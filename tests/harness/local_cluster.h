#pragma once

#include <signal.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sdk/client.h"
#include "tests/harness/subprocess.h"

namespace andon::testing {

// The three real daemons (controller, aggregator, optionally an agent) on
// loopback ports picked free at start, with data directories under a fresh
// temporary directory. Used by end-to-end tests; everything is stopped when
// the object dies. Not thread-safe.
class LocalCluster {
 public:
  struct Options {
    bool with_agent = true;
    std::string host_id;  // agent's --host_id; empty: the machine's hostname
    std::string agent_labels = "role=e2e";
    // With leaves > 0 the cluster's aggregator is the root of a two-level
    // tree (--role inner) and `leaves` leaf aggregators (leaf-1, ...) with
    // --parent agg-e2e take the hosts.
    int leaves = 0;
    // Controller's --forward_rules.
    std::string forward_rules;
    // The leaves' --admission_delay.
    std::string leaf_admission_delay = "1s";
    // > 0: the aggregators run at this nice value, so that a benchmark of
    // the controller gives it the CPU it would have on its own machine.
    int aggregator_nice = 0;
  };

  explicit LocalCluster(Options options);
  ~LocalCluster();

  // Starts the daemons and waits until the aggregator is live and (with an
  // agent) the host is connected. On failure the status includes log tails.
  absl::Status Start(absl::Duration timeout = absl::Seconds(60));

  // Stops a daemon with SIGTERM (checking it exits 0) and starts it again on
  // the same ports and data directory; waits until the controller answers
  // and the aggregator is live again.
  absl::Status RestartController(absl::Duration timeout = absl::Seconds(60));
  absl::Status RestartAggregator(absl::Duration timeout = absl::Seconds(60));
  // Kills the controller with SIGKILL (a crash: no clean shutdown, its
  // streams cut) and starts it again on the same ports and data directory;
  // waits until it answers and the aggregator is live again.
  absl::Status CrashController(absl::Duration timeout = absl::Seconds(60));

  // Stops leaf `i` (0-based) with `signal` (SIGKILL: a crash) and starts it
  // again on the same ports and data directory; waits until it is live.
  absl::Status RestartLeaf(int i, int signal, absl::Duration timeout = absl::Seconds(60));
  // Stops leaf `i` with SIGTERM; ResumeLeaf starts it again on the same ports
  // and data and waits until it answers queries.
  void StopLeaf(int i);
  absl::Status ResumeLeaf(int i, absl::Duration timeout = absl::Seconds(60));
  std::string leaf_grpc(int i) const { return Addr(leaves_[i].grpc_port); }
  std::string leaf_http(int i) const { return Addr(leaves_[i].http_port); }
  Subprocess* leaf(int i) { return leaves_[i].process ? &*leaves_[i].process : nullptr; }
  std::string leaf_id(int i) const { return "leaf-" + std::to_string(i + 1); }

  // Starts one more aggregator with its own ports and data directory,
  // registering with this cluster's controller. Sets `*grpc_address`.
  absl::StatusOr<Subprocess> StartExtraAggregator(const std::string& id, std::string* grpc_address);

  // Starts another agent against this cluster (for conflict tests).
  absl::StatusOr<Subprocess> StartAgent(const std::string& host_id, const std::string& log_name);

  sdk::Client& client() { return *client_; }
  const std::string& host_id() const { return host_id_; }
  std::string controller_grpc() const { return Addr(controller_grpc_port_); }
  std::string controller_http() const { return Addr(controller_http_port_); }
  std::string aggregator_grpc() const { return Addr(aggregator_grpc_port_); }
  std::string aggregator_http() const { return Addr(aggregator_http_port_); }
  const std::string& dir() const { return dir_; }
  Subprocess* agent() { return agent_ ? &*agent_ : nullptr; }
  Subprocess& controller() { return *controller_; }
  Subprocess& aggregator() { return *aggregator_; }

  // The last lines of every daemon's log, for failure messages.
  std::string LogTails() const;

  // Polls `ready` until it holds; fails at once, with log tails, when one of
  // the cluster's running daemons exits, and with DEADLINE_EXCEEDED naming
  // `what` after `timeout`.
  absl::Status WaitUntil(absl::Duration timeout, const std::string& what,
                         const std::function<bool()>& ready);
  // Waits until every running leaf has handed on all it stored: no window
  // left open in its forwarder and nothing in its outbox. Call once the
  // senders are done (an open window never counts as handed on).
  absl::Status WaitForLeavesForwarded(absl::Duration timeout = absl::Seconds(90));
  // Stops the agent with `signal`; returns its wait status.
  int StopAgent(int signal = SIGTERM);

 private:
  static std::string Addr(int port) { return "127.0.0.1:" + std::to_string(port); }
  absl::Status StartController();
  absl::Status StartAggregator();
  absl::Status StartLeaf(int i);
  // `argv` run through nice(1) when Options.aggregator_nice asks for it.
  std::vector<std::string> Niced(std::vector<std::string> argv) const;
  absl::Status WaitForTree(absl::Duration timeout);
  absl::Status WaitForLiveAggregator(absl::Duration timeout);
  static absl::Status StopCleanly(Subprocess& process, const std::string& name);

  Options options_;
  std::string dir_;
  std::string host_id_;
  int controller_grpc_port_ = 0, controller_http_port_ = 0;
  int aggregator_grpc_port_ = 0, aggregator_http_port_ = 0, agent_http_port_ = 0;
  std::optional<Subprocess> controller_, aggregator_, agent_;
  struct Leaf {
    int grpc_port = 0, http_port = 0;
    std::optional<Subprocess> process;
  };
  std::vector<Leaf> leaves_;
  std::unique_ptr<sdk::Client> client_;
};

// The directory holding andon-controller, andon-aggregator, andon-agent and andonctl.
std::string BinDir();

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickFreePort();

}  // namespace andon::testing
