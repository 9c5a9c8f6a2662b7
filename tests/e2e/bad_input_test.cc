// Bad input against the real daemons: each is refused with a clear error
// and leaves what is stored unchanged. A simulated sender pushes windows
// straight to the aggregator with the real Ingest API (no BPF needed).

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "common/host_port.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/sim_sender.h"

namespace andon::testing {
namespace {

constexpr char kSender[] = "sim-host-1";

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<LocalCluster>(LocalCluster::Options{.with_agent = false});
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
    sender_ = std::make_unique<SimSender>(cluster_->aggregator_grpc(), kSender);
  }

  grpc::Status Push(const v1::IngestBatch& batch) { return sender_->Push(batch); }
  v1::IngestBatch Batch(uint64_t seq) { return sender_->Batch(seq); }
  v1::Point SyscallPoint(const std::string& comm, uint64_t count, absl::Time t) {
    return sender_->SyscallPoint(comm, count, t);
  }

  double Total(const std::string& comm) {
    auto req =
        sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(10), absl::ZeroDuration());
    sdk::AddEqualMatcher(req, "host", kSender);
    sdk::AddEqualMatcher(req, "comm", comm);
    req.add_group_by("comm");
    auto resp = cluster_->client().Query(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok() || resp->series_size() == 0) return 0;
    return resp->series(0).total();
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<SimSender> sender_;
  absl::Time t0_ = absl::Now() - absl::Seconds(30);
};

TEST_F(BadInputTest, ValidBatchIsQueryableAndDuplicateAppliesOnce) {
  auto b = Batch(1);
  *b.add_points() = SyscallPoint("dbsim", 40, t0_);
  *b.add_points() = SyscallPoint("dbsim", 2, t0_ + absl::Seconds(1));
  ASSERT_TRUE(Push(b).ok());
  EXPECT_EQ(Total("dbsim"), 42);
  grpc::Status again = Push(b);  // a replay after a lost ack
  EXPECT_TRUE(again.ok()) << again.error_message();
  EXPECT_EQ(Total("dbsim"), 42);
}

TEST_F(BadInputTest, MalformedBatchesAreRefusedAndChangeNothing) {
  auto good = Batch(10);
  *good.add_points() = SyscallPoint("keep", 7, t0_);
  ASSERT_TRUE(Push(good).ok());
  ASSERT_EQ(Total("keep"), 7);

  auto unknown = Batch(11);
  *unknown.add_points() = SyscallPoint("keep", 5, t0_);
  auto* bad = unknown.add_points();
  *bad = SyscallPoint("keep", 5, t0_);
  bad->mutable_series()->set_metric("no_such_metric");
  grpc::Status s = Push(unknown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("no_such_metric"), std::string::npos) << s.error_message();

  auto misaligned = Batch(12);
  *misaligned.add_points() = SyscallPoint("keep", 5, t0_);
  misaligned.mutable_points(0)->set_window_start_ns(misaligned.points(0).window_start_ns() + 123);
  s = Push(misaligned);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  auto no_sender = Batch(13);
  no_sender.clear_sender_id();
  *no_sender.add_points() = SyscallPoint("keep", 5, t0_);
  s = Push(no_sender);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  auto oversized = Batch(14);
  auto p = SyscallPoint(std::string(1000, 'x'), 1, t0_);
  for (int i = 0; i < 10000; ++i) *oversized.add_points() = p;  // ~10 MiB
  s = Push(oversized);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();

  EXPECT_EQ(Total("keep"), 7);
  EXPECT_TRUE(cluster_->aggregator().Running());
}

TEST_F(BadInputTest, BadQueriesGetClearErrors) {
  auto req =
      sdk::MakeRangeQuery("no_such_metric", absl::Now(), absl::Minutes(1), absl::ZeroDuration());
  auto resp = cluster_->client().Query(req);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(resp.status().message().find("unknown metric"), std::string::npos) << resp.status();

  req = sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(1), absl::ZeroDuration());
  std::swap(*req.mutable_start(), *req.mutable_end());
  resp = cluster_->client().Query(req);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument) << resp.status();
}

TEST_F(BadInputTest, JsonApiAnswersAndRefusesBadRequests) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort(cluster_->controller_http(), &host, &port).ok());
  httplib::Client http(host, port);
  auto hosts = http.Get("/api/v1/hosts");
  ASSERT_TRUE(hosts);
  EXPECT_EQ(hosts->status, 200);
  EXPECT_NE(hosts->body.find("\"hosts\""), std::string::npos) << hosts->body;

  auto bad_json = http.Post("/api/v1/query", "{not json", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_NE(bad_json->body.find("\"error\""), std::string::npos) << bad_json->body;

  auto unknown =
      http.Post("/api/v1/query",
                R"({"metric":"nope","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z"})",
                "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  EXPECT_NE(unknown->body.find("unknown metric"), std::string::npos) << unknown->body;

  auto backwards = http.Post(
      "/api/v1/query",
      R"({"metric":"syscalls","start":"2026-01-01T00:01:00Z","end":"2026-01-01T00:00:00Z"})",
      "application/json");
  ASSERT_TRUE(backwards);
  EXPECT_EQ(backwards->status, 400) << backwards->body;

  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
}

}  // namespace
}  // namespace andon::testing
