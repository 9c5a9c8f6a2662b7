// The real agent in a two-level tree through crashes and moves: its leaf is
// killed with SIGKILL and restarted, then the host moves to the other leaf
// and back. Every window the agent produced is stored at exactly one leaf,
// none is missing, and the root's sum is the leaves' sum.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "andon/v1/query.grpc.pb.h"
#include "common/grpc_channel.h"
#include "tests/e2e/bpf_available.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/probe_waits.h"
#include "tests/harness/scrape.h"

namespace andon::testing {
namespace {

// The host's syscalls per one-second window, as one aggregator stores them.
std::map<int64_t, double> WindowsAt(const std::string& address, const std::string& host,
                                    absl::Time from, absl::Time to) {
  v1::QueryRequest q;
  q.set_metric("syscalls");
  q.mutable_start()->set_seconds(absl::ToUnixSeconds(from));
  q.mutable_end()->set_seconds(absl::ToUnixSeconds(to));
  q.mutable_step()->set_seconds(1);
  if (!host.empty()) sdk::AddEqualMatcher(q, "host", host);
  auto stub = v1::Query::NewStub(NewChannel(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::QueryResponse resp;
  grpc::Status st = stub->Query(&ctx, q, &resp);
  EXPECT_TRUE(st.ok()) << address << ": " << st.error_message();
  std::map<int64_t, double> out;
  for (const auto& s : resp.series()) {
    for (const auto& p : s.points()) out[p.time_ms()] += p.value();
  }
  return out;
}

double Sum(const std::map<int64_t, double>& windows) {
  double total = 0;
  for (const auto& [t, v] : windows) total += v;
  return total;
}

// Waits until a (restarted) aggregator has taken `n` batches.
absl::Status WaitForBatches(LocalCluster& cluster, const std::string& http, double n) {
  return cluster.WaitUntil(absl::Seconds(60), "batches at a leaf", [&] {
    return ScrapeMetric(http, "andon_aggregator_ingest_batches_received_total").value_or(0) >= n;
  });
}

// Waits until the host's leaf is `leaf_id` (the controller moved it).
absl::Status WaitForLeaf(LocalCluster& cluster, const std::string& leaf_id) {
  return WaitForHost(
             cluster.client(), cluster.host_id(),
             [&](const v1::Host& h) { return h.aggregator_id() == leaf_id && h.connected(); },
             absl::Seconds(60))
      .status();
}

TEST(TreeBpfTest, ARealAgentsWindowsAreStoredOnceThroughACrashAndTwoMoves) {
  if (std::string reason = BpfUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
  LocalCluster cluster(LocalCluster::Options{.leaves = 2});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  const absl::Time begin = absl::Now() - absl::Minutes(1);
  auto host = cluster.client().GetHost(cluster.host_id());
  ASSERT_TRUE(host.ok());
  const int x = host->aggregator_id() == cluster.leaf_id(0) ? 0 : 1;
  const int y = 1 - x;
  ASSERT_EQ(host->aggregator_id(), cluster.leaf_id(x));
  auto syscalls =
      sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
  sdk::AddEqualMatcher(syscalls, "host", cluster.host_id());
  ASSERT_TRUE(WaitForQueryTotal(cluster.client(), syscalls, 1, absl::Seconds(30)).ok());

  // A crash in the middle of the run: the agent spools, then resends to the
  // restarted leaf what it had not seen acknowledged.
  ASSERT_TRUE(cluster.RestartLeaf(x, SIGKILL).ok()) << cluster.LogTails();
  ASSERT_TRUE(WaitForLeaf(cluster, cluster.leaf_id(x)).ok());
  // The run goes on at the restarted leaf for a few windows.
  ASSERT_TRUE(WaitForBatches(cluster, cluster.leaf_http(x), 3).ok());
  // A move: the leaf goes away; the controller gives the host to the other.
  cluster.StopLeaf(x);
  ASSERT_TRUE(WaitForLeaf(cluster, cluster.leaf_id(y)).ok()) << cluster.LogTails();
  // And back, while the other leaf is up: the agent asks it what it has.
  ASSERT_TRUE(cluster.ResumeLeaf(x).ok()) << cluster.LogTails();
  ASSERT_TRUE(WaitForLeaf(cluster, cluster.leaf_id(x)).ok()) << cluster.LogTails();
  ASSERT_TRUE(WaitForBatches(cluster, cluster.leaf_http(x), 3).ok());

  // End of the run: the agent delivers what it has and stops; then the
  // leaves forward everything.
  ASSERT_EQ(cluster.StopAgent(SIGTERM), 0) << cluster.LogTails();
  const absl::Time end = absl::Now() + absl::Seconds(2);
  ASSERT_TRUE(cluster.WaitForLeavesForwarded().ok());

  std::map<int64_t, double> at_x = WindowsAt(cluster.leaf_grpc(x), cluster.host_id(), begin, end);
  std::map<int64_t, double> at_y = WindowsAt(cluster.leaf_grpc(y), cluster.host_id(), begin, end);
  std::map<int64_t, double> at_root = WindowsAt(cluster.aggregator_grpc(), "", begin, end);
  ASSERT_FALSE(at_x.empty());
  ASSERT_FALSE(at_y.empty()) << "the host never moved";
  for (const auto& [t, v] : at_y) {
    EXPECT_EQ(at_x.count(t), 0u) << "window " << t << " stored at both leaves";
  }
  std::set<int64_t> all;
  for (const auto& [t, v] : at_x) all.insert(t);
  for (const auto& [t, v] : at_y) all.insert(t);
  // The agent makes syscalls of its own every second: a window per second.
  EXPECT_EQ(static_cast<int64_t>(all.size()), (*all.rbegin() - *all.begin()) / 1000 + 1)
      << "windows missing between the first and the last";
  EXPECT_EQ(Sum(at_root), Sum(at_x) + Sum(at_y)) << "the root's sums differ from the leaves'";
}

}  // namespace
}  // namespace andon::testing
