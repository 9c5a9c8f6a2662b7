#include "controller/query_router.h"

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

// An aggregator's Query service that answers one canned series and counts calls.
class FakeAggregator final : public v1::Query::CallbackService {
 public:
  FakeAggregator(std::string comm, double value) : comm_(std::move(comm)), value_(value) {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  ~FakeAggregator() override { Stop(); }
  void Stop() {
    if (server_) server_->Shutdown();
    server_.reset();
  }

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* ctx, const v1::QueryRequest* req,
                                  v1::QueryResponse* resp) override {
    calls_.fetch_add(1);
    if (req->typed()) typed_calls_.fetch_add(1);
    resp->set_metric(req->metric());
    resp->set_kind(v1::COUNTER);
    v1::Series* s = resp->add_series();
    v1::Label* l = s->add_labels();
    l->set_name("comm");
    l->set_value(comm_);
    v1::SamplePoint* p = s->add_points();
    p->set_time_ms(req->start().seconds() * 1000);
    p->set_value(value_);
    s->set_total(value_);
    if (req->typed()) {
      p->mutable_typed()->set_counter(static_cast<uint64_t>(value_));
      s->mutable_total_value()->set_counter(static_cast<uint64_t>(value_));
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  const std::string& address() const { return address_; }
  int calls() const { return calls_.load(); }
  int typed_calls() const { return typed_calls_.load(); }

 private:
  std::string comm_;
  double value_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::atomic<int> calls_{0};
  std::atomic<int> typed_calls_{0};
};

class QueryRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenRocksDbStore(dir_.path());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    registry_ = std::move(*Registry::Open(store_.get(), &clock_));
    router_ = std::make_unique<QueryRouter>(registry_.get(), &catalog_, &clock_, &metrics_);
  }

  void Add(const std::string& id, const FakeAggregator& agg) {
    v1::RegisterAggregatorRequest req;
    req.set_id(id);
    req.set_address(agg.address());
    ASSERT_TRUE(registry_->RegisterAggregator(req).ok());
  }

  static v1::QueryRequest Request() {
    v1::QueryRequest q;
    q.set_metric("syscalls");
    q.mutable_start()->set_seconds(1700000000);
    q.mutable_end()->set_seconds(1700000060);
    q.add_group_by("comm");
    return q;
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  prometheus::Registry prometheus_;
  ControllerMetrics metrics_{prometheus_};
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<Registry> registry_;
  MetricCatalog catalog_;
  std::unique_ptr<QueryRouter> router_;
};

TEST_F(QueryRouterTest, FansOutAndMerges) {
  FakeAggregator a("nginx", 3), b("nginx", 4), c("bash", 5);
  Add("agg-a", a);
  Add("agg-b", b);
  Add("agg-c", c);
  auto r = router_->Query(Request());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series_size(), 2);
  EXPECT_EQ(r->series(0).labels(0).value(), "nginx");
  EXPECT_DOUBLE_EQ(r->series(0).total(), 7);
  EXPECT_DOUBLE_EQ(r->series(0).points(0).value(), 7);
  EXPECT_EQ(r->series(1).labels(0).value(), "bash");
  EXPECT_EQ(a.typed_calls(), 1);  // merged here, then finished
  EXPECT_FALSE(r->partial());
}

TEST_F(QueryRouterTest, AnswersWithoutADeadAggregatorAndSaysSo) {
  FakeAggregator a("nginx", 3), b("nginx", 4);
  Add("agg-a", a);
  Add("agg-b", b);
  b.Stop();
  auto r = router_->Query(Request());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->partial());
  ASSERT_EQ(r->missing_size(), 1);
  EXPECT_THAT(r->missing(0), HasSubstr("aggregator 'agg-b' at"));
  ASSERT_EQ(r->series_size(), 1);
  EXPECT_DOUBLE_EQ(r->series(0).total(), 3);
}

TEST_F(QueryRouterTest, HostQueryGoesToItsAggregatorOnly) {
  FakeAggregator a("x", 1), b("x", 1);
  Add("agg-a", a);
  Add("agg-b", b);
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1"), "inst").ok());
  auto assigned = registry_->AssignHost("web-1");
  ASSERT_TRUE(assigned.ok());
  v1::QueryRequest q = Request();
  auto* m = q.add_matchers();
  m->set_name("host");
  m->set_value("web-1");
  ASSERT_TRUE(router_->Query(q).ok());
  const FakeAggregator& mine = assigned->id() == "agg-a" ? a : b;
  const FakeAggregator& other = assigned->id() == "agg-a" ? b : a;
  EXPECT_EQ(mine.calls(), 1);
  EXPECT_EQ(other.calls(), 0);
}

TEST_F(QueryRouterTest, DeadAggregatorIsAClearError) {
  FakeAggregator a("x", 1);
  Add("agg-a", a);
  a.Stop();
  auto r = router_->Query(Request());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("aggregator 'agg-a' at"));
}

TEST_F(QueryRouterTest, ValidatesBeforeNeedingAnAggregator) {
  v1::QueryRequest q = Request();
  q.set_metric("bogus");
  EXPECT_EQ(router_->Query(q).status().code(), absl::StatusCode::kNotFound);
  auto r = router_->Query(Request());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no live aggregator"));
}

}  // namespace
}  // namespace andon::controller
