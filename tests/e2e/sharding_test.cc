// Two aggregators behind one controller: hosts are spread across both by
// rendezvous hashing, each host's windows go to its own aggregator, and the
// controller answers fleet-wide queries by merging both and a host's
// drill-down from its aggregator alone.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "andon/v1/agent.grpc.pb.h"
#include "common/grpc_channel.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/sim_sender.h"

namespace andon::testing {
namespace {

constexpr int kHosts = 24;

TEST(ShardingTest, HostsSpreadAcrossAggregatorsAndQueriesMerge) {
  LocalCluster cluster(LocalCluster::Options{.with_agent = false});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  std::string agg2_address;
  auto agg2 = cluster.StartExtraAggregator("agg-two", &agg2_address);
  ASSERT_TRUE(agg2.ok());
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  int live = 0;
  while (absl::Now() < deadline && live < 2) {
    auto aggs = cluster.client().ListAggregators();
    live = 0;
    if (aggs.ok()) {
      for (const auto& a : aggs->aggregators()) live += a.live();
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(live, 2) << cluster.LogTails() << agg2->Log();

  auto control = v1::AgentControl::NewStub(NewChannel(cluster.controller_grpc()));
  std::map<std::string, int> hosts_per_aggregator;
  double fleet_total = 0;
  std::string host_on_two;
  for (int i = 0; i < kHosts; ++i) {
    std::string host = absl::StrCat("shard-host-", i);
    v1::RegisterRequest req;
    req.set_instance_id(absl::StrCat("0123456789abcdef0123456789ab", 1000 + i));
    req.mutable_host()->set_host_id(host);
    grpc::ClientContext ctx;
    v1::RegisterResponse resp;
    grpc::Status st = control->Register(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ++hosts_per_aggregator[resp.aggregator().id()];
    if (resp.aggregator().id() == "agg-two") host_on_two = host;

    SimSender sender(resp.aggregator().address(), host);
    auto batch = sender.Batch(1);
    *batch.add_points() = sender.SyscallPoint("app", i + 1, absl::Now() - absl::Seconds(10));
    ASSERT_TRUE(sender.Push(batch).ok());
    fleet_total += i + 1;
  }
  ASSERT_EQ(hosts_per_aggregator.size(), 2u) << "all hosts on one aggregator";
  EXPECT_GE(hosts_per_aggregator["agg-e2e"], kHosts / 6);
  EXPECT_GE(hosts_per_aggregator["agg-two"], kHosts / 6);

  // Fleet-wide: one group summed over both aggregators.
  auto fleet = sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
  fleet.add_group_by("comm");
  auto resp = cluster.client().Query(fleet);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->series_size(), 1);
  EXPECT_EQ(resp->series(0).total(), fleet_total);

  // By host: every host once, with its own count, whichever aggregator has it.
  auto by_host =
      sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
  by_host.add_group_by("host");
  resp = cluster.client().Query(by_host);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->series_size(), kHosts);
  EXPECT_EQ(resp->series(0).labels(0).value(), absl::StrCat("shard-host-", kHosts - 1));
  EXPECT_EQ(resp->series(0).total(), kHosts);

  // A drill-down goes to the host's own aggregator.
  ASSERT_FALSE(host_on_two.empty());
  auto one = sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
  sdk::AddEqualMatcher(one, "host", host_on_two);
  one.add_group_by("host");
  resp = cluster.client().Query(one);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->series_size(), 1);
  EXPECT_EQ(resp->series(0).labels(0).value(), host_on_two);
}

}  // namespace
}  // namespace andon::testing

namespace andon::testing {
namespace {

// A host moved to a new aggregator keeps its older windows on the old one;
// a drill-down into the host must still see them.
TEST(ShardingTest, DrillDownAfterReassignmentSeesWindowsOnBothAggregators) {
  LocalCluster cluster(LocalCluster::Options{.with_agent = false});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  auto control = v1::AgentControl::NewStub(NewChannel(cluster.controller_grpc()));
  auto register_host = [&](const std::string& host, int i, v1::RegisterResponse* resp) {
    v1::RegisterRequest req;
    req.set_instance_id(absl::StrCat("0123456789abcdef0123456789ab", 2000 + i));
    req.mutable_host()->set_host_id(host);
    grpc::ClientContext ctx;
    return control->Register(&ctx, req, resp);
  };
  // Every host starts on the only aggregator and stores a window there.
  for (int i = 0; i < kHosts; ++i) {
    std::string host = absl::StrCat("move-host-", i);
    v1::RegisterResponse resp;
    ASSERT_TRUE(register_host(host, i, &resp).ok());
    SimSender sender(resp.aggregator().address(), host);
    auto batch = sender.Batch(1);
    *batch.add_points() = sender.SyscallPoint("app", 100, absl::Now() - absl::Seconds(20));
    ASSERT_TRUE(sender.Push(batch).ok());
  }
  std::string agg2_address;
  auto agg2 = cluster.StartExtraAggregator("agg-two", &agg2_address);
  ASSERT_TRUE(agg2.ok());
  // Re-registering after agg-two is live moves its share of hosts there.
  std::string moved;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (moved.empty() && absl::Now() < deadline) {
    for (int i = 0; i < kHosts && moved.empty(); ++i) {
      std::string host = absl::StrCat("move-host-", i);
      v1::RegisterResponse resp;
      ASSERT_TRUE(register_host(host, i, &resp).ok());
      if (resp.aggregator().id() == "agg-two") {
        moved = host;
        SimSender sender(resp.aggregator().address(), host);
        auto batch = sender.Batch(2);
        *batch.add_points() = sender.SyscallPoint("app", 5, absl::Now() - absl::Seconds(2));
        ASSERT_TRUE(sender.Push(batch).ok());
      }
    }
    if (moved.empty()) absl::SleepFor(absl::Milliseconds(300));
  }
  ASSERT_FALSE(moved.empty()) << "no host moved to the new aggregator\n" << agg2->Log();

  auto q = sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
  sdk::AddEqualMatcher(q, "host", moved);
  q.add_group_by("host");
  auto resp = cluster.client().Query(q);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->series_size(), 1);
  EXPECT_EQ(resp->series(0).total(), 105);  // 100 on the old aggregator + 5 on the new
}

}  // namespace
}  // namespace andon::testing
