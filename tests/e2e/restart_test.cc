// Restarts keep what was stored: the controller's registry and the
// aggregator's windows and per-sender sequences live in RocksDB, so a
// restarted daemon answers as before and a replayed batch still applies once.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "andon/v1/agent.grpc.pb.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/sim_sender.h"

namespace andon::testing {
namespace {

constexpr char kHost[] = "restart-sim-1";

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<LocalCluster>(LocalCluster::Options{.with_agent = false});
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }

  double Total() {
    auto req =
        sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(10), absl::ZeroDuration());
    sdk::AddEqualMatcher(req, "host", kHost);
    req.add_group_by("host");
    auto resp = cluster_->client().Query(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok() || resp->series_size() == 0) return 0;
    return resp->series(0).total();
  }

  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(RestartTest, AggregatorKeepsWindowsAndSequences) {
  SimSender sender(cluster_->aggregator_grpc(), kHost);
  auto batch = sender.Batch(7);
  absl::Time t = absl::Now() - absl::Seconds(20);
  *batch.add_points() = sender.SyscallPoint("db", 30, t);
  *batch.add_points() = sender.SyscallPoint("web", 12, t + absl::Seconds(1));
  ASSERT_TRUE(sender.Push(batch).ok());
  ASSERT_EQ(Total(), 42);

  ASSERT_TRUE(cluster_->RestartAggregator().ok()) << cluster_->LogTails();
  EXPECT_EQ(Total(), 42);
  v1::IngestAck ack;
  ASSERT_TRUE(sender.Push(batch, &ack).ok());  // the same batch, replayed
  EXPECT_EQ(ack.batches_duplicate(), 1u);
  EXPECT_EQ(ack.last_sequence(), 7u);
  EXPECT_EQ(Total(), 42);
}

TEST_F(RestartTest, ControllerKeepsHostsAndAggregators) {
  auto stub = v1::AgentControl::NewStub(
      grpc::CreateChannel(cluster_->controller_grpc(), grpc::InsecureChannelCredentials()));
  v1::RegisterRequest req;
  req.set_instance_id("0123456789abcdef0123456789abcdef");
  req.mutable_host()->set_host_id(kHost);
  req.mutable_host()->set_kernel_release("6.1.0-test");
  (*req.mutable_host()->mutable_labels())["rack"] = "r7";
  grpc::ClientContext ctx;
  v1::RegisterResponse resp;
  grpc::Status st = stub->Register(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.aggregator().id(), "agg-e2e");

  ASSERT_TRUE(cluster_->RestartController().ok()) << cluster_->LogTails();
  auto host = cluster_->client().GetHost(kHost);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->info().kernel_release(), "6.1.0-test");
  EXPECT_EQ(host->info().labels().at("rack"), "r7");
  EXPECT_EQ(host->aggregator_id(), "agg-e2e");
  EXPECT_FALSE(host->connected());
  auto aggs = cluster_->client().ListAggregators();
  ASSERT_TRUE(aggs.ok());
  ASSERT_EQ(aggs->aggregators_size(), 1);
  EXPECT_EQ(aggs->aggregators(0).id(), "agg-e2e");
}

}  // namespace
}  // namespace andon::testing
