#include "controller/http_api.h"

#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "common/http/http_server.h"
#include "common/unique_fd.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenRocksDbStore(db_dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto registry = Registry::Open(store_.get(), &clock_);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("db-1", {{"role", "db"}}), "inst-a").ok());
  }

  void StartServer(const std::string& ui_dir, http::ServerOptions options = {},
                   absl::Duration query_deadline = absl::Seconds(10)) {
    router_ = std::make_unique<QueryRouter>(registry_.get(), &catalog_, &clock_, &metrics_,
                                            query_deadline);
    auto audit = AuditLog::Open(store_.get(), &clock_);
    ASSERT_TRUE(audit.ok()) << audit.status();
    audit_ = std::move(*audit);
    auto probes = ProbeConfigs::Open(store_.get(), &clock_, &catalog_, audit_.get());
    ASSERT_TRUE(probes.ok()) << probes.status();
    probes_ = std::move(*probes);
    probe_api_ = std::make_unique<ProbeApi>(probes_.get(), registry_.get(), &applied_,
                                            /*allow_remote_changes=*/false);
    labels_ = std::make_unique<HostLabelsApi>(registry_.get(), /*allow_remote_changes=*/false,
                                              nullptr, audit_.get());
    api_ = std::make_unique<HttpApi>(registry_.get(), router_.get(), probe_api_.get(), &metrics_,
                                     ui_dir);
    drains_ = std::make_unique<AggregatorDrainApi>(registry_.get(),
                                                   /*allow_remote_changes=*/false, audit_.get());
    api_->set_host_labels(labels_.get());
    api_->set_audit_log(audit_.get());
    api_->set_aggregator_drains(drains_.get());
    options.on_response = [this](int status) { metrics_.CountHttpRequest(status); };
    http_ = std::make_unique<HttpServer>(prometheus_, options);
    api_->Install(http_->router());
    ASSERT_TRUE(http_->Start("127.0.0.1:0").ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", http_->port());
  }

  httplib::Result PostQuery(const std::string& body) {
    return client_->Post("/api/v1/query", body, "application/json");
  }

  TempDir db_dir_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::shared_ptr<prometheus::Registry> prometheus_ = std::make_shared<prometheus::Registry>();
  ControllerMetrics metrics_{*prometheus_};
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<Registry> registry_;
  MetricCatalog catalog_;
  std::unique_ptr<QueryRouter> router_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ProbeConfigs> probes_;
  ApplyTracker applied_;
  std::unique_ptr<ProbeApi> probe_api_;
  std::unique_ptr<HostLabelsApi> labels_;
  std::unique_ptr<AggregatorDrainApi> drains_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpApiTest, DrainsAndUndrainsALeafAndAuditsIt) {
  for (const auto& [id, role] :
       {std::pair{"root", v1::AGGREGATOR_INNER}, std::pair{"leaf-1", v1::AGGREGATOR_LEAF}}) {
    v1::RegisterAggregatorRequest req;
    req.set_id(id);
    req.set_address(std::string(id) + ":7410");
    req.set_role(role);
    req.set_parent_id(role == v1::AGGREGATOR_LEAF ? "root" : "");
    req.set_weight(role == v1::AGGREGATOR_LEAF ? 150 : 0);
    ASSERT_TRUE(registry_->RegisterAggregator(req).ok());
  }
  StartServer("/nonexistent");
  auto res = client_->Post("/api/v1/aggregators/leaf-1/drain", "", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr(R"("id":"leaf-1")"));
  EXPECT_THAT(res->body, HasSubstr(R"("draining":true)"));
  res = client_->Get("/api/v1/aggregators");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr(R"("weight":150,"draining":true)"));
  res = client_->Post("/api/v1/aggregators/leaf-1/undrain", "", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr(R"("draining":false)"));

  res = client_->Post("/api/v1/aggregators/leaf-7/drain", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("no aggregator 'leaf-7'"));
  EXPECT_THAT(res->body, HasSubstr(R"("code":"NOT_FOUND")"));
  res = client_->Post("/api/v1/aggregators/root/drain", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_THAT(res->body, HasSubstr("inner aggregator"));
  res = client_->Post("/api/v1/aggregators/leaf-1/evict", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("no API route"));

  res = client_->Get("/api/v1/audit?object=leaf-1");
  ASSERT_TRUE(res);
  v1::ListAuditResponse audit;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &audit).ok()) << res->body;
  ASSERT_EQ(audit.entries_size(), 2) << res->body;
  EXPECT_EQ(audit.entries(0).action(), "aggregators.undrain");
  EXPECT_EQ(audit.entries(1).action(), "aggregators.drain");
  EXPECT_EQ(audit.entries(1).who(), "127.0.0.1");
}

TEST_F(HttpApiTest, GetsOneProbeConfigurationByName) {
  StartServer("/nonexistent");
  auto res = client_->Get("/api/v1/probes/default");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr(R"("name":"default")"));
  EXPECT_THAT(res->body, HasSubstr(R"("probe":"syscalls")"));
  res = client_->Get("/api/v1/probes/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("no probe configuration 'nope'"));
}

// Changes through the JSON API land in the audit log with who made them and
// the object before and after; rejected ones do not.
TEST_F(HttpApiTest, ChangesAreAudited) {
  StartServer("/nonexistent");
  auto res = client_->Post("/api/v1/probes", R"({"name":"io","probes":[{"probe":"biolatency"}]})",
                           "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  res = client_->Post("/api/v1/probes", R"({"name":"bad","probes":[{"probe":"nope"}]})",
                      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  clock_.Advance(absl::Seconds(5));
  res = client_->Post("/api/v1/hosts/db-1/labels", R"({"set":{"tier":"canary"}})",
                      "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  res = client_->Post("/api/v1/hosts/db-1/labels", R"({"set":{"host":"x"}})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = client_->Delete("/api/v1/probes/io");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;

  res = client_->Get("/api/v1/audit");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  v1::ListAuditResponse audit;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &audit).ok()) << res->body;
  ASSERT_EQ(audit.entries_size(), 4) << res->body;  // and `default`, created at start
  const v1::AuditEntry& disable = audit.entries(0);
  EXPECT_EQ(disable.action(), "probes.disable");
  EXPECT_EQ(disable.object(), "io");
  EXPECT_EQ(disable.who(), "127.0.0.1");
  EXPECT_THAT(disable.before(), HasSubstr(R"("probe":"biolatency")"));
  EXPECT_EQ(disable.after(), "");
  const v1::AuditEntry& label = audit.entries(1);
  EXPECT_EQ(label.action(), "labels.set");
  EXPECT_EQ(label.object(), "db-1");
  EXPECT_EQ(label.time().seconds(), 1700000005);
  EXPECT_EQ(label.before(), R"({"info":{"hostId":"db-1","labels":{"role":"db"}}})");
  EXPECT_EQ(label.after(), R"({"info":{"hostId":"db-1","labels":{"role":"db","tier":"canary"}},)"
                           R"("labelOverrides":{"tier":"canary"}})");
  const v1::AuditEntry& enable = audit.entries(2);
  EXPECT_EQ(enable.action(), "probes.enable");
  EXPECT_EQ(enable.object(), "io");
  EXPECT_EQ(enable.before(), "");
  v1::ProbeConfig enabled;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(enable.after(), &enabled).ok());
  EXPECT_EQ(enabled.name(), "io");
  EXPECT_EQ(enabled.changed_by(), "127.0.0.1");
  EXPECT_EQ(audit.entries(3).object(), "default");
  EXPECT_EQ(audit.entries(3).who(), "controller");

  res = client_->Get("/api/v1/audit?object=io&limit=1");
  ASSERT_TRUE(res);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &audit).ok()) << res->body;
  ASSERT_EQ(audit.entries_size(), 1);
  EXPECT_EQ(audit.entries(0).action(), "probes.disable");
  res = client_->Get("/api/v1/audit?limit=x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(HttpApiTest, ListsHostsAsProtobufJson) {
  StartServer("/nonexistent");
  auto res = client_->Get("/api/v1/hosts");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(res->body, HasSubstr("\"hostId\":\"db-1\""));
  EXPECT_THAT(res->body, HasSubstr("\"connected\":false"));  // primitives always printed

  EXPECT_THAT(res->body, HasSubstr("\"state\":\"HOST_STALE\""));  // seen, stream not open
  EXPECT_THAT(res->body, HasSubstr("\"total\":1"));

  res = client_->Get("/api/v1/hosts?selector=role%3Dweb");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("\"hosts\":[]"));
  EXPECT_THAT(res->body, HasSubstr("\"total\":0"));
  res = client_->Get("/api/v1/hosts?selector=role");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = client_->Get("/api/v1/hosts?state=sleepy");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("use up, stale or down"));
  res = client_->Get("/api/v1/hosts?state=down");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("\"hosts\":[]"));
}

TEST_F(HttpApiTest, GetHostAndUnknownHost) {
  StartServer("/nonexistent");
  auto res = client_->Get("/api/v1/hosts/db-1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("\"instanceId\":\"inst-a\""));
  res = client_->Get("/api/v1/hosts/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("\"code\":\"NOT_FOUND\""));
  EXPECT_THAT(res->body, HasSubstr("host 'nope'"));
}

TEST_F(HttpApiTest, QueryErrorsMapToHttpStatus) {
  StartServer("/nonexistent");
  auto wrong_method = client_->Get("/api/v1/query");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "POST");
  EXPECT_THAT(wrong_method->body, HasSubstr(R"("code":"UNIMPLEMENTED")"));
  EXPECT_THAT(wrong_method->body, HasSubstr("use POST"));
  auto res = PostQuery("{not json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("INVALID_ARGUMENT"));

  res = PostQuery(
      R"({"metric":"bogus","start":"2023-11-14T22:13:20Z","end":"2023-11-14T22:23:20Z"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("unknown metric 'bogus'"));

  res = PostQuery(
      R"({"metric":"syscalls","start":"2023-11-14T22:23:20Z","end":"2023-11-14T22:13:20Z"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("must be after start"));

  res = PostQuery(
      R"({"metric":"syscalls","start":"2023-11-14T22:13:20Z","end":"2023-11-14T22:23:20Z"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(res->body, HasSubstr("no live aggregator"));
}

// A query waits on its aggregators without a thread: with one HTTP worker
// and four queries hanging on an aggregator that never answers, the rest of
// the API still answers, before any of the queries ends.
TEST_F(HttpApiTest, QueriesWaitingOnASilentAggregatorHoldNoServerThread) {
  UniqueFd silent(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(silent.get(), 16), 0);  // never accepts: a hung aggregator
  socklen_t len = sizeof(addr);
  ::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  v1::RegisterAggregatorRequest root;
  root.set_id("root");
  root.set_address(absl::StrCat("127.0.0.1:", ntohs(addr.sin_port)));
  root.set_role(v1::AGGREGATOR_INNER);
  ASSERT_TRUE(registry_->RegisterAggregator(root).ok());
  http::ServerOptions options;
  options.worker_threads = 1;
  StartServer("/nonexistent", options, absl::Seconds(5));

  constexpr int kQueries = 4;
  std::atomic<int> answered{0};
  std::vector<int> statuses(kQueries);
  std::vector<std::thread> queries;
  for (int i = 0; i < kQueries; ++i) {
    queries.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", http_->port());
      c.set_read_timeout(60);
      auto res = c.Post(
          "/api/v1/query",
          R"({"metric":"syscalls","start":"2023-11-14T22:13:20Z","end":"2023-11-14T22:23:20Z"})",
          "application/json");
      statuses[i] = res ? res->status : -1;
      ++answered;
    });
  }
  ASSERT_TRUE(http_->WaitForStats(
      [&](const http::ServerStats& s) { return s.requests >= static_cast<uint64_t>(kQueries); },
      absl::Seconds(20)));
  ASSERT_EQ(http_->stats().requests, static_cast<uint64_t>(kQueries));
  auto hosts = client_->Get("/api/v1/hosts");
  const int answered_before_hosts = answered;
  for (std::thread& t : queries) t.join();
  ASSERT_TRUE(hosts);
  EXPECT_EQ(hosts->status, 200);
  EXPECT_THAT(hosts->body, HasSubstr("db-1"));
  EXPECT_EQ(answered_before_hosts, 0) << "a waiting query held the only HTTP worker";
  for (int status : statuses) EXPECT_EQ(status, 503);
}

TEST_F(HttpApiTest, MetricsAggregatorsHealthz) {
  StartServer("/nonexistent");
  auto res = client_->Get("/api/v1/metrics");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("\"name\":\"syscalls\""));
  res = client_->Get("/api/v1/aggregators");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "{\"aggregators\":[],\"forwardRules\":[]}");
  res = client_->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "ok\n");
  res = client_->Get("/api/v1/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("no API route"));
  res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("andon_controller_http_requests_total"));
}

TEST_F(HttpApiTest, ExplainsMissingUi) {
  StartServer("/nonexistent");
  auto res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr("ninja -C build ui"));
}

TEST_F(HttpApiTest, ServesUiDirectory) {
  TempDir ui;
  std::ofstream(ui.path() + "/index.html") << "<html>andon</html>";
  StartServer(ui.path());
  auto res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<html>andon</html>");
  res = client_->Get("/api/v1/hosts");  // the API still wins over the mount
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("db-1"));
}

}  // namespace
}  // namespace andon::controller
