// A two-level tree: a root and two leaves behind one controller. Hosts go to
// the leaves only; each leaf forwards its closed windows, host label
// dropped, to the root; fleet-wide queries are answered from the root and
// per-host ones from the leaves. A leaf killed with SIGKILL in the middle of
// a run and restarted loses no window and counts none twice at the root.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "andon/v1/agent.grpc.pb.h"
#include "andon/v1/query.grpc.pb.h"
#include "common/grpc_channel.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/probe_waits.h"
#include "tests/harness/scrape.h"
#include "tests/harness/sim_sender.h"

namespace andon::testing {
namespace {

// Registers `host` with the controller as an agent would; returns its leaf.
v1::AggregatorRef RegisterHost(const std::string& controller, const std::string& host, int i) {
  auto control = v1::AgentControl::NewStub(NewChannel(controller));
  v1::RegisterRequest req;
  req.set_instance_id(absl::StrCat("0123456789abcdef0123456789ab", 2000 + i));
  req.mutable_host()->set_host_id(host);
  grpc::ClientContext ctx;
  v1::RegisterResponse resp;
  grpc::Status st = control->Register(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.aggregator();
}

// Registers `host` with labels `role=ROLE`; returns the controller's answer
// (its leaf, and the labels to put on batches).
v1::RegisterResponse RegisterWithRole(const std::string& controller, const std::string& host,
                                      const std::string& role, int i) {
  auto control = v1::AgentControl::NewStub(NewChannel(controller));
  v1::RegisterRequest req;
  req.set_instance_id(absl::StrCat("0123456789abcdef0123456789ab", 3000 + i));
  req.mutable_host()->set_host_id(host);
  (*req.mutable_host()->mutable_labels())["role"] = role;
  grpc::ClientContext ctx;
  v1::RegisterResponse resp;
  grpc::Status st = control->Register(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp;
}

// Asks one aggregator directly (not through the controller).
absl::StatusOr<v1::QueryResponse> AskAggregator(const std::string& address,
                                                const v1::QueryRequest& request) {
  auto stub = v1::Query::NewStub(NewChannel(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::QueryResponse resp;
  grpc::Status st = stub->Query(&ctx, request, &resp);
  if (!st.ok()) return absl::UnavailableError(st.error_message());
  return resp;
}

v1::QueryRequest Syscalls(const std::vector<std::string>& by) {
  v1::QueryRequest q =
      sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(10), absl::ZeroDuration());
  for (const auto& l : by) q.add_group_by(l);
  return q;
}

// Waits until the root holds `total` syscalls and the leaves have nothing
// more on its way up (no open window, empty outbox), so that a double count
// would have shown by then.
void ExpectRootSettlesAt(LocalCluster& cluster, double total) {
  double seen = -1;
  absl::Status held = cluster.WaitUntil(absl::Seconds(60), "the root to hold the total", [&] {
    auto root = AskAggregator(cluster.aggregator_grpc(), Syscalls({}));
    seen = root.ok() ? TotalOf(*root) : -1;
    return seen >= total;
  });
  ASSERT_TRUE(held.ok()) << "root holds " << seen << " of " << total << "\n" << held;
  ASSERT_TRUE(cluster.WaitForLeavesForwarded().ok()) << cluster.LogTails();
  auto root = AskAggregator(cluster.aggregator_grpc(), Syscalls({}));
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(TotalOf(*root), total) << "a window lost or counted twice on its way to the root";
}

TEST(TreeTest, LeavesForwardToTheRootAndQueriesPickTheirLevel) {
  LocalCluster cluster(LocalCluster::Options{.with_agent = false, .leaves = 2});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();

  std::map<std::string, int> per_leaf;
  std::map<std::string, double> per_host;
  double total = 0;
  const absl::Time now = absl::Now();
  for (int i = 0; i < 12; ++i) {
    const std::string host = absl::StrCat("tree-host-", i);
    v1::AggregatorRef leaf = RegisterHost(cluster.controller_grpc(), host, i);
    ++per_leaf[leaf.id()];
    SimSender sender(leaf.address(), host);
    // A window long past (it reaches the root as a late amendment) and one
    // that is still open.
    auto batch = sender.Batch(1);
    *batch.add_points() = sender.SyscallPoint("app", i + 1, now - absl::Seconds(30));
    *batch.add_points() = sender.SyscallPoint("app", 100, now);
    ASSERT_TRUE(sender.Push(batch).ok());
    per_host[host] = i + 1 + 100;
    total += i + 1 + 100;
  }
  EXPECT_EQ(per_leaf.count("agg-e2e"), 0u) << "an inner aggregator was given hosts";
  EXPECT_EQ(per_leaf.size(), 2u) << "every host on one leaf";

  ExpectRootSettlesAt(cluster, total);
  // The root has one fleet-wide series: no host label.
  auto root = AskAggregator(cluster.aggregator_grpc(), Syscalls({"host", "comm"}));
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->series_size(), 1);
  for (const auto& l : root->series(0).labels()) {
    if (l.name() == "host") {
      EXPECT_EQ(l.value(), "") << "the root stores per-host series";
    }
  }

  // Through the controller: a drill-down by host comes from the leaves...
  auto by_host = cluster.client().Query(Syscalls({"host"}));
  ASSERT_TRUE(by_host.ok()) << by_host.status();
  ASSERT_EQ(by_host->series_size(), 12);
  for (const auto& s : by_host->series()) {
    EXPECT_EQ(s.total(), per_host[s.labels(0).value()]) << s.labels(0).value();
  }
  // ... and a fleet-wide one from the root, which answers alone: with both
  // leaves stopped the answer is whole, not partial.
  for (int i = 0; i < 2; ++i) cluster.StopLeaf(i);
  auto fleet = cluster.client().Query(Syscalls({"comm"}));
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_FALSE(fleet->partial());
  ASSERT_EQ(fleet->series_size(), 1);
  EXPECT_EQ(fleet->series(0).total(), total);
}

TEST(TreeTest, ALeafKilledMidRunLosesNoWindowAndCountsNoneTwice) {
  LocalCluster cluster(LocalCluster::Options{.with_agent = false, .leaves = 2});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  const std::string host = "crash-host";
  v1::AggregatorRef leaf = RegisterHost(cluster.controller_grpc(), host, 0);
  const int index = leaf.id() == cluster.leaf_id(0) ? 0 : 1;
  ASSERT_EQ(leaf.id(), cluster.leaf_id(index));

  // One batch per window, windows one second apart from now on: at the kill
  // some are closed and forwarded, some still open (only in the leaf's store).
  const absl::Time start = absl::Now();
  double total = 0;
  auto push = [&](uint64_t seq) {
    SimSender sender(cluster.leaf_grpc(index), host);
    auto batch = sender.Batch(seq);
    *batch.add_points() = sender.SyscallPoint("app", seq * 10, start + absl::Seconds(seq));
    return sender.Push(batch);
  };
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    ASSERT_TRUE(push(seq).ok());
    total += seq * 10;
  }
  // Wait until something has gone up, so the kill lands mid-run.
  ASSERT_TRUE(WaitForQueryTotal(cluster.client(), Syscalls({}), 10, absl::Seconds(30)).ok())
      << cluster.LogTails();
  ASSERT_TRUE(cluster.RestartLeaf(index, SIGKILL).ok()) << cluster.LogTails();
  // The agent resends what it had not seen acknowledged: the leaf applies
  // those once. Then the run goes on.
  for (uint64_t seq = 4; seq <= 12; ++seq) {
    ASSERT_TRUE(push(seq).ok());
    if (seq > 6) total += seq * 10;
  }
  ExpectRootSettlesAt(cluster, total);
  auto at_leaf = AskAggregator(cluster.leaf_grpc(index), Syscalls({}));
  ASSERT_TRUE(at_leaf.ok());
  EXPECT_EQ(TotalOf(*at_leaf), total);
}

// Totals per value of the first group_by label.
std::map<std::string, double> PerValue(const v1::QueryResponse& r) {
  std::map<std::string, double> out;
  for (const auto& s : r.series()) out[s.labels_size() > 0 ? s.labels(0).value() : ""] += s.total();
  return out;
}

// A forwarding rule that keeps a host label: hosts with role=a and role=b,
// their batches carrying the labels the controller answered with, give the
// root one series per role, and the totals stay exact through a leaf killed
// while its windows are open (it rebuilds them with the labels it stored).
TEST(TreeTest, ARuleKeepsAHostLabelAtTheRootThroughALeafCrash) {
  LocalCluster cluster(LocalCluster::Options{
      .with_agent = false, .leaves = 2, .forward_rules = "syscalls:role,syscall"});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  struct Host {
    std::string id;
    std::string role;
    v1::RegisterResponse registered;
  };
  std::vector<Host> hosts;
  for (int i = 0; i < 6; ++i) {
    Host h{absl::StrCat("role-host-", i), i % 3 == 0 ? "a" : "b", {}};
    h.registered = RegisterWithRole(cluster.controller_grpc(), h.id, h.role, i);
    ASSERT_EQ(h.registered.host_labels().labels().at("role"), h.role);
    hosts.push_back(std::move(h));
  }
  std::map<std::string, double> per_role;
  const absl::Time start = absl::Now();
  auto push = [&](const Host& h, uint64_t seq, absl::Time window, uint64_t count) {
    SimSender sender(h.registered.aggregator().address(), h.id);
    v1::IngestBatch batch = sender.Batch(seq);
    *batch.mutable_host_labels() = h.registered.host_labels();
    *batch.add_points() = sender.SyscallPoint("app", count, window);
    return sender.Push(batch);
  };
  // A window long past (a late amendment at the root) and windows still open.
  for (size_t i = 0; i < hosts.size(); ++i) {
    ASSERT_TRUE(push(hosts[i], 1, start - absl::Seconds(30), i + 1).ok());
    per_role[hosts[i].role] += i + 1;
    for (uint64_t seq = 2; seq <= 4; ++seq) {
      ASSERT_TRUE(push(hosts[i], seq, start + absl::Seconds(seq), 10).ok());
      per_role[hosts[i].role] += 10;
    }
  }
  // Leaf 1 dies with windows open: only its store (and the labels kept with
  // each batch) has them.
  ASSERT_TRUE(cluster.RestartLeaf(0, SIGKILL).ok()) << cluster.LogTails();
  double total = 0;
  for (const auto& [role, n] : per_role) total += n;
  ExpectRootSettlesAt(cluster, total);

  auto root = AskAggregator(cluster.aggregator_grpc(), Syscalls({"role"}));
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(PerValue(*root), per_role) << root->DebugString();
  // Through the controller, fleet-wide by role comes from the root alone.
  for (int i = 0; i < 2; ++i) cluster.StopLeaf(i);
  auto fleet = cluster.client().Query(Syscalls({"role"}));
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_FALSE(fleet->partial());
  EXPECT_EQ(PerValue(*fleet), per_role);
}

}  // namespace
}  // namespace andon::testing
