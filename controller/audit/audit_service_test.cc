#include "controller/audit/audit_service.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "andon/v1/fleet.grpc.pb.h"
#include "andon/v1/probes.grpc.pb.h"
#include "common/metric_catalog.h"
#include "controller/fleet_service.h"
#include "controller/host_labels_api.h"
#include "controller/probes/probe_api.h"
#include "controller/probes/probe_configs.h"
#include "controller/probes/probe_service.h"
#include "controller/registry.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Changes made through the real gRPC services are listed by the Audit
// service with the caller's peer address and the objects before and after.
class AuditServiceTest : public RegistryTestBase {
 protected:
  void SetUp() override {
    RegistryTestBase::SetUp();
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("web-1", {{"role", "web"}}), "inst-a").ok());
    auto audit = AuditLog::Open(store_.get(), &clock_);
    ASSERT_TRUE(audit.ok()) << audit.status();
    audit_ = std::move(*audit);
    auto configs = ProbeConfigs::Open(store_.get(), &clock_, &catalog_, audit_.get());
    ASSERT_TRUE(configs.ok()) << configs.status();
    configs_ = std::move(*configs);
    probe_api_ = std::make_unique<ProbeApi>(configs_.get(), registry_.get(), &applied_,
                                            /*allow_remote_changes=*/false);
    labels_ = std::make_unique<HostLabelsApi>(registry_.get(), /*allow_remote_changes=*/false,
                                              nullptr, audit_.get());
    probe_service_ = std::make_unique<ProbeService>(probe_api_.get());
    fleet_service_ = std::make_unique<FleetService>(registry_.get(), labels_.get());
    audit_service_ = std::make_unique<AuditService>(audit_.get());
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(probe_service_.get());
    builder.RegisterService(fleet_service_.get());
    builder.RegisterService(audit_service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    probes_ = v1::Probes::NewStub(channel);
    fleet_ = v1::Fleet::NewStub(channel);
    audit_stub_ = v1::Audit::NewStub(channel);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  v1::ListAuditResponse ListAudit(const std::string& object = "") {
    grpc::ClientContext ctx;
    v1::ListAuditRequest req;
    req.set_object(object);
    v1::ListAuditResponse resp;
    grpc::Status s = audit_stub_->ListAudit(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  MetricCatalog catalog_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ProbeConfigs> configs_;
  ApplyTracker applied_;
  std::unique_ptr<ProbeApi> probe_api_;
  std::unique_ptr<HostLabelsApi> labels_;
  std::unique_ptr<ProbeService> probe_service_;
  std::unique_ptr<FleetService> fleet_service_;
  std::unique_ptr<AuditService> audit_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Probes::Stub> probes_;
  std::unique_ptr<v1::Fleet::Stub> fleet_;
  std::unique_ptr<v1::Audit::Stub> audit_stub_;
};

TEST_F(AuditServiceTest, EnableLabelDisableAreListedNewestFirst) {
  {
    grpc::ClientContext ctx;
    v1::PutProbeConfigRequest req;
    req.set_name("io");
    req.add_probes()->set_probe("biolatency");
    req.set_selector("role=web");
    v1::ProbeConfig resp;
    ASSERT_TRUE(probes_->PutProbeConfig(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::PutProbeConfigRequest req;  // rejected: no probe
    req.set_name("empty");
    v1::ProbeConfig resp;
    ASSERT_EQ(probes_->PutProbeConfig(&ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    v1::SetHostLabelsRequest req;
    req.set_host_id("web-1");
    (*req.mutable_set())["tier"] = "canary";
    v1::Host resp;
    ASSERT_TRUE(fleet_->SetHostLabels(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::DeleteProbeConfigRequest req;
    req.set_name("io");
    v1::DeleteProbeConfigResponse resp;
    ASSERT_TRUE(probes_->DeleteProbeConfig(&ctx, req, &resp).ok());
  }

  v1::ListAuditResponse all = ListAudit();
  ASSERT_EQ(all.entries_size(), 4);  // with the first `default`
  const v1::AuditEntry& disable = all.entries(0);
  EXPECT_EQ(disable.action(), "probes.disable");
  EXPECT_THAT(disable.who(), StartsWith("ipv4:127.0.0.1:"));
  EXPECT_THAT(disable.before(), HasSubstr(R"("selectorText":"role=web")"));
  EXPECT_EQ(disable.after(), "");
  const v1::AuditEntry& label = all.entries(1);
  EXPECT_EQ(label.action(), "labels.set");
  EXPECT_EQ(label.object(), "web-1");
  EXPECT_THAT(label.who(), StartsWith("ipv4:127.0.0.1:"));
  EXPECT_EQ(label.before(), R"({"info":{"hostId":"web-1","labels":{"role":"web"}}})");
  EXPECT_THAT(label.after(), HasSubstr(R"("tier":"canary")"));
  const v1::AuditEntry& enable = all.entries(2);
  EXPECT_EQ(enable.action(), "probes.enable");
  EXPECT_EQ(enable.object(), "io");
  EXPECT_EQ(enable.before(), "");
  EXPECT_THAT(enable.after(), HasSubstr(R"("probe":"biolatency")"));
  EXPECT_EQ(all.entries(3).object(), "default");

  v1::ListAuditResponse io = ListAudit("io");
  ASSERT_EQ(io.entries_size(), 2);
  EXPECT_EQ(io.entries(0).action(), "probes.disable");
  EXPECT_EQ(io.entries(1).action(), "probes.enable");
}

}  // namespace
}  // namespace andon::controller
