// Draining aggregators through AggregatorDrainApi and the gRPC Fleet
// service: who may, what is refused, and what the audit log keeps.
#include "controller/fleet_api.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "andon/v1/fleet.grpc.pb.h"
#include "controller/fleet_service.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

class AggregatorDrainApiTest : public RegistryTestBase {
 protected:
  void SetUp() override {
    RegistryTestBase::SetUp();
    if (HasFatalFailure()) return;
    auto audit = AuditLog::Open(store_.get(), &clock_);
    ASSERT_TRUE(audit.ok()) << audit.status();
    audit_ = std::move(*audit);
    AddAggregator("root", v1::AGGREGATOR_INNER, "");
    AddAggregator("leaf-1", v1::AGGREGATOR_LEAF, "root");
    AddAggregator("leaf-2", v1::AGGREGATOR_LEAF, "root");
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  void AddAggregator(const std::string& id, v1::AggregatorRole role, const std::string& parent) {
    v1::RegisterAggregatorRequest req;
    req.set_id(id);
    req.set_address(id + ":7410");
    req.set_role(role);
    req.set_parent_id(parent);
    req.set_weight(id == "leaf-2" ? 200 : 0);
    ASSERT_TRUE(registry_->RegisterAggregator(req).ok());
  }

  static v1::DrainAggregatorRequest Request(const std::string& id, bool drain) {
    v1::DrainAggregatorRequest req;
    req.set_id(id);
    req.set_drain(drain);
    return req;
  }

  // A Fleet gRPC server with `drains` (may be null); sets fleet_.
  void StartServer(AggregatorDrainApi* drains) {
    service_ = std::make_unique<FleetService>(registry_.get(), nullptr, drains);
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    fleet_ = v1::Fleet::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                    grpc::InsecureChannelCredentials()));
  }

  grpc::Status Drain(const std::string& id, bool drain, v1::Aggregator* out) {
    grpc::ClientContext ctx;
    return fleet_->DrainAggregator(&ctx, Request(id, drain), out);
  }

  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<FleetService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Fleet::Stub> fleet_;
};

TEST_F(AggregatorDrainApiTest, DrainAndUndrainAreAuditedWithWhoBeforeAndAfter) {
  AggregatorDrainApi drains(registry_.get(), /*allow_remote_changes=*/false, audit_.get());
  auto drained = drains.Drain(Request("leaf-2", true), "ipv4:127.0.0.1:5000");
  ASSERT_TRUE(drained.ok()) << drained.status();
  EXPECT_TRUE(drained->draining());
  EXPECT_EQ(drained->weight(), 200u);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(drains.Drain(Request("leaf-2", false), "ipv6:[::1]:5001").ok());
  EXPECT_FALSE(registry_->GetAggregator("leaf-2")->draining());

  auto audit = audit_->List(v1::ListAuditRequest());
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->entries_size(), 2);
  const v1::AuditEntry& undrain = audit->entries(0);
  EXPECT_EQ(undrain.action(), "aggregators.undrain");
  EXPECT_EQ(undrain.object(), "leaf-2");
  EXPECT_EQ(undrain.who(), "ipv6:[::1]:5001");
  EXPECT_EQ(undrain.time().seconds(), 1700000001);
  const v1::AuditEntry& drain = audit->entries(1);
  EXPECT_EQ(drain.action(), "aggregators.drain");
  EXPECT_EQ(drain.who(), "ipv4:127.0.0.1:5000");
  EXPECT_EQ(drain.before(), R"({"id":"leaf-2","address":"leaf-2:7410","weight":200})");
  EXPECT_EQ(drain.after(),
            R"({"id":"leaf-2","address":"leaf-2:7410","weight":200,"draining":true})");
  EXPECT_EQ(undrain.before(), drain.after());
  EXPECT_EQ(undrain.after(), drain.before());
}

TEST_F(AggregatorDrainApiTest, RemotePeersAreRefusedUnlessAllowed) {
  AggregatorDrainApi local_only(registry_.get(), /*allow_remote_changes=*/false, audit_.get());
  auto refused = local_only.Drain(Request("leaf-1", true), "ipv4:10.1.2.3:5000");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("--allow_remote_changes"));
  EXPECT_THAT(refused.status().message(), HasSubstr("10.1.2.3"));
  EXPECT_FALSE(registry_->GetAggregator("leaf-1")->draining());
  EXPECT_EQ(audit_->size(), 0u);

  AggregatorDrainApi remote_ok(registry_.get(), /*allow_remote_changes=*/true, audit_.get());
  ASSERT_TRUE(remote_ok.Drain(Request("leaf-1", true), "ipv4:10.1.2.3:5000").ok());
  EXPECT_TRUE(registry_->GetAggregator("leaf-1")->draining());
  EXPECT_EQ(audit_->size(), 1u);
}

TEST_F(AggregatorDrainApiTest, UnknownInnerAndMissingIdsAreRefusedAndNotAudited) {
  AggregatorDrainApi drains(registry_.get(), /*allow_remote_changes=*/false, audit_.get());
  auto unknown = drains.Drain(Request("leaf-9", true), "127.0.0.1");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no aggregator 'leaf-9'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("andonctl aggregators lists them"));
  auto inner = drains.Drain(Request("root", true), "127.0.0.1");
  EXPECT_EQ(inner.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(inner.status().message(), HasSubstr("'root' is an inner aggregator"));
  auto empty = drains.Drain(Request("", false), "127.0.0.1");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("undrain"));
  EXPECT_EQ(audit_->size(), 0u);
}

TEST_F(AggregatorDrainApiTest, GrpcServiceDrainsAndMapsErrors) {
  AggregatorDrainApi drains(registry_.get(), /*allow_remote_changes=*/false, audit_.get());
  StartServer(&drains);
  v1::Aggregator agg;
  grpc::Status s = Drain("leaf-1", true, &agg);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(agg.id(), "leaf-1");
  EXPECT_TRUE(agg.draining());
  EXPECT_TRUE(agg.live());
  s = Drain("nope", true, &agg);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("'nope'"));
  s = Drain("root", true, &agg);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(audit_->size(), 1u);
  auto audit = audit_->List(v1::ListAuditRequest());
  ASSERT_TRUE(audit.ok());
  EXPECT_THAT(audit->entries(0).who(), ::testing::StartsWith("ipv4:127.0.0.1:"));
}

TEST_F(AggregatorDrainApiTest, GrpcServiceWithoutDrainsIsUnimplemented) {
  StartServer(nullptr);
  v1::Aggregator agg;
  grpc::Status s = Drain("leaf-1", true, &agg);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_FALSE(registry_->GetAggregator("leaf-1")->draining());
}

}  // namespace
}  // namespace andon::controller
