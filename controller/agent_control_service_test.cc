#include "controller/agent_control_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>

#include "andon/v1/fleet.grpc.pb.h"
#include "common/grpc_server.h"
#include "controller/fleet_service.h"
#include "controller/probes/probe_configs.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::HasSubstr;

class AgentControlServiceTest : public RegistryTestBase {
 protected:
  void SetUp() override {
    RegistryTestBase::SetUp();
    auto probes = ProbeConfigs::Open(store_.get(), &clock_, &catalog_);
    ASSERT_TRUE(probes.ok()) << probes.status();
    probes_ = std::move(*probes);
    service_ = std::make_unique<AgentControlService>(registry_.get(), probes_.get(), &metrics_);
    probes_->set_on_change([this] { service_->PushProbeChanges(); });
    fleet_ = std::make_unique<FleetService>(registry_.get());
    int port = 0;
    auto server = StartGrpcServer("127.0.0.1:0", {service_.get(), fleet_.get()}, &port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::AgentControl::NewStub(channel);
    fleet_stub_ = v1::Fleet::NewStub(channel);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    if (service_) service_->StopServing();
  }

  grpc::Status AddAggregator(const std::string& id, const std::string& instance = "i1") {
    grpc::ClientContext ctx;
    v1::RegisterAggregatorRequest req;
    req.set_id(id);
    req.set_address(id + ":7410");
    req.set_instance_id(instance);
    v1::RegisterAggregatorResponse resp;
    grpc::Status s = fleet_stub_->RegisterAggregator(&ctx, req, &resp);
    if (s.ok()) {
      EXPECT_EQ(resp.heartbeat_interval_ms(), 2000u);
    }
    return s;
  }

  grpc::Status Register(const std::string& host_id, const std::string& instance,
                        v1::RegisterResponse* resp) {
    grpc::ClientContext ctx;
    v1::RegisterRequest req;
    *req.mutable_host() = MakeHostInfo(host_id);
    req.set_instance_id(instance);
    return stub_->Register(&ctx, req, resp);
  }

  // Polls the registry (the server updates it on its own threads).
  bool WaitConnected(const std::string& host_id, bool want) {
    for (int i = 0; i < 500; ++i) {
      auto h = registry_->GetHost(host_id);
      if (h.ok() && h->connected() == want) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  // Reads what every new stream starts with: the host's labels, then its
  // probe set (returned).
  template <typename Stream>
  static v1::ControlMessage ReadStart(Stream& stream) {
    v1::ControlMessage labels;
    v1::ControlMessage probes;
    EXPECT_TRUE(stream->Read(&labels));
    EXPECT_TRUE(labels.has_host_labels()) << labels.DebugString();
    EXPECT_TRUE(stream->Read(&probes));
    EXPECT_TRUE(probes.has_probes()) << probes.DebugString();
    return probes;
  }

  static v1::AgentMessage Hello(const std::string& host_id, const std::string& instance) {
    v1::AgentMessage m;
    *m.mutable_hello()->mutable_host() = MakeHostInfo(host_id);
    m.mutable_hello()->set_instance_id(instance);
    return m;
  }

  // andon_controller_probe_sets_pushed_total.
  double SetsPushed() {
    for (const prometheus::MetricFamily& f : prometheus_.Collect()) {
      if (f.name == "andon_controller_probe_sets_pushed_total" && !f.metric.empty()) {
        return f.metric[0].counter.value;
      }
    }
    return -1;
  }

  prometheus::Registry prometheus_;
  ControllerMetrics metrics_{prometheus_};
  MetricCatalog catalog_;
  std::unique_ptr<ProbeConfigs> probes_;
  std::unique_ptr<AgentControlService> service_;
  std::unique_ptr<FleetService> fleet_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AgentControl::Stub> stub_;
  std::unique_ptr<v1::Fleet::Stub> fleet_stub_;
};

TEST_F(AgentControlServiceTest, RegisterWithoutAggregatorIsUnavailable) {
  v1::RegisterResponse resp;
  grpc::Status s = Register("web-1", "inst-a", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("no live aggregator yet"));
}

TEST_F(AgentControlServiceTest, SecondInstanceWithSameHostIdIsRejected) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  v1::RegisterResponse resp;
  grpc::Status s = Register("web-1", "inst-a", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.host_id(), "web-1");
  EXPECT_EQ(resp.aggregator().id(), "agg-1");
  EXPECT_EQ(resp.aggregator().address(), "agg-1:7410");
  EXPECT_EQ(resp.heartbeat_interval_ms(), 1000u);

  v1::RegisterResponse resp2;
  s = Register("web-1", "inst-b", &resp2);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("already held by a live agent"));
  EXPECT_EQ(registry_->GetHost("web-1")->instance_id(), "inst-a");
  EXPECT_TRUE(Register("web-1", "inst-a", &resp2).ok()) << "same instance re-registers";
}

TEST_F(AgentControlServiceTest, HelloMarksConnectedAndEndMarksDisconnected) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  v1::RegisterResponse resp;
  ASSERT_TRUE(Register("web-1", "inst-a", &resp).ok());
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  ASSERT_TRUE(stream->Write(Hello("web-1", "inst-a")));
  EXPECT_TRUE(WaitConnected("web-1", true));
  // The stream starts with the host's labels and probe set; a sync stream's
  // Finish() waits until every message sent to it was read.
  EXPECT_TRUE(ReadStart(stream).has_probes());
  v1::AgentMessage hb;
  hb.mutable_heartbeat()->set_applied_config_version(7);
  ASSERT_TRUE(stream->Write(hb));
  for (int i = 0;
       i < 500 && registry_->GetHost("web-1")->last_heartbeat().applied_config_version() != 7;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(registry_->GetHost("web-1")->last_heartbeat().applied_config_version(), 7u);
  EXPECT_EQ(service_->OpenStreams(), 1u);
  // A connected host that heartbeats stays held, however long ago it registered.
  clock_.Advance(absl::Minutes(10));
  hb.mutable_heartbeat()->set_applied_config_version(8);
  ASSERT_TRUE(stream->Write(hb));
  for (int i = 0;
       i < 500 && registry_->GetHost("web-1")->last_heartbeat().applied_config_version() != 8;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Register("web-1", "inst-b", &resp).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(WaitConnected("web-1", false));
  EXPECT_EQ(service_->OpenStreams(), 0u);
}

TEST_F(AgentControlServiceTest, ShuttingDownWithStreamsOpenEndsEachAndMarksItsHostDisconnected) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  constexpr int kHosts = 12;  // more than the queues, so each queue holds several
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControlMessage>>>
      streams;
  for (int i = 0; i < kHosts; ++i) {
    const std::string host = "web-" + std::to_string(i);
    v1::RegisterResponse resp;
    ASSERT_TRUE(Register(host, "inst-a", &resp).ok());
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(stub_->Control(contexts.back().get()));
    ASSERT_TRUE(streams.back()->Write(Hello(host, "inst-a")));
    ReadStart(streams.back());  // attached: the stream was sent its start
  }
  EXPECT_EQ(service_->OpenStreams(), static_cast<size_t>(kHosts));

  // The agents keep their streams open: the server cancels them at its
  // deadline, and every stream lets go before the queues stop.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  service_->StopServing();
  EXPECT_EQ(service_->OpenStreams(), 0u);
  for (int i = 0; i < kHosts; ++i) {
    EXPECT_FALSE(registry_->GetHost("web-" + std::to_string(i))->connected()) << i;
    v1::ControlMessage m;
    EXPECT_FALSE(streams[i]->Read(&m));
    EXPECT_FALSE(streams[i]->Finish().ok());
  }
  server_.reset();
}

TEST_F(AgentControlServiceTest, FirstMessageMustBeHello) {
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  v1::AgentMessage hb;
  hb.mutable_heartbeat();
  stream->Write(hb);
  v1::ControlMessage in;
  EXPECT_FALSE(stream->Read(&in));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("must be hello"));
}

TEST_F(AgentControlServiceTest, HelloFromSecondLiveInstanceIsRejected) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  v1::RegisterResponse resp;
  ASSERT_TRUE(Register("web-1", "inst-a", &resp).ok());
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  stream->Write(Hello("web-1", "inst-b"));
  v1::ControlMessage in;
  EXPECT_FALSE(stream->Read(&in));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(AgentControlServiceTest, PushesNewAssignmentWhenAggregatorDies) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  ASSERT_TRUE(AddAggregator("agg-2").ok());
  v1::RegisterResponse resp;
  ASSERT_TRUE(Register("web-1", "inst-a", &resp).ok());
  const std::string first = resp.aggregator().id();
  const std::string other = first == "agg-1" ? "agg-2" : "agg-1";
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  ASSERT_TRUE(stream->Write(Hello("web-1", "inst-a")));
  ASSERT_TRUE(WaitConnected("web-1", true));
  ASSERT_TRUE(ReadStart(stream).has_probes()) << "a new stream starts with the host's probe set";
  service_->PushAssignmentChanges();  // nothing changed: nothing sent

  clock_.Advance(absl::Seconds(11));       // both miss 5 heartbeats...
  ASSERT_TRUE(AddAggregator(other).ok());  // ...but `other` is back
  service_->PushAssignmentChanges();
  v1::ControlMessage in;
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_assignment());
  EXPECT_EQ(in.assignment().id(), other);
  EXPECT_EQ(in.assignment().address(), other + ":7410");
  EXPECT_EQ(registry_->GetHost("web-1")->aggregator_id(), other);
  service_->PushAssignmentChanges();  // already told: nothing more

  ctx.TryCancel();
  stream->Finish();
  EXPECT_TRUE(WaitConnected("web-1", false));
}

TEST_F(AgentControlServiceTest, HostsOfALeafThatRestartedAreToldTheirAssignmentAgainOnce) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  ASSERT_TRUE(AddAggregator("agg-2").ok());
  v1::RegisterResponse resp;
  ASSERT_TRUE(Register("web-1", "inst-a", &resp).ok());
  const std::string first = resp.aggregator().id();
  const std::string other = first == "agg-1" ? "agg-2" : "agg-1";
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  ASSERT_TRUE(stream->Write(Hello("web-1", "inst-a")));
  ASSERT_TRUE(WaitConnected("web-1", true));
  ASSERT_TRUE(ReadStart(stream).has_probes());

  // Aggregators register every heartbeat: the same instance is no news.
  ASSERT_TRUE(AddAggregator(first).ok());
  ASSERT_TRUE(AddAggregator(other).ok());
  // The host's leaf comes back as a new instance while still live: it
  // restarted, and the agent's ingest stream to it broke.
  ASSERT_TRUE(AddAggregator(other, "i2").ok());  // not the host's: nobody is told
  ASSERT_TRUE(AddAggregator(first, "i2").ok());
  EXPECT_EQ(service_->PushAssignmentChanges(), 0u) << "nothing moves";
  v1::ControlMessage in;
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_assignment()) << in.DebugString();
  EXPECT_EQ(in.assignment().id(), first);
  EXPECT_EQ(in.assignment().address(), first + ":7410");
  service_->PushAssignmentChanges();  // told once: nothing more

  // The next message the host gets is a real move, not the same news again.
  clock_.Advance(absl::Seconds(11));
  ASSERT_TRUE(AddAggregator(other).ok());
  EXPECT_EQ(service_->PushAssignmentChanges(), 1u);
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_assignment());
  EXPECT_EQ(in.assignment().id(), other);

  ctx.TryCancel();
  stream->Finish();
  EXPECT_TRUE(WaitConnected("web-1", false));
}

TEST_F(AgentControlServiceTest, ALeafJoiningTakesOnlyItsShareAPacedFewAtATime) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  constexpr int kHosts = 12;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControlMessage>>>
      streams;
  for (int i = 0; i < kHosts; ++i) {
    const std::string host = "pace-" + std::to_string(i), inst = "inst-" + std::to_string(i);
    v1::RegisterResponse resp;
    ASSERT_TRUE(Register(host, inst, &resp).ok());
    ASSERT_EQ(resp.aggregator().id(), "agg-1");
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(stub_->Control(contexts.back().get()));
    ASSERT_TRUE(streams.back()->Write(Hello(host, inst)));
    ASSERT_TRUE(WaitConnected(host, true));
  }
  ASSERT_TRUE(AddAggregator("agg-2").ok());
  const ShardMap shards = registry_->LiveShardMap();
  size_t should_move = 0;
  for (int i = 0; i < kHosts; ++i) {
    should_move += shards.Lookup("pace-" + std::to_string(i))->id() == "agg-2" ? 1 : 0;
  }
  ASSERT_GT(should_move, 0u);
  size_t moved = 0;
  for (size_t n; (n = service_->PushAssignmentChanges(/*max_moves=*/2)) > 0;) {
    EXPECT_LE(n, 2u) << "more moves in one push than the pace allows";
    moved += n;
  }
  // Only the new leaf's share moved, and every host is on exactly the
  // aggregator the shard map gives it.
  EXPECT_EQ(moved, should_move);
  for (int i = 0; i < kHosts; ++i) {
    const std::string host = "pace-" + std::to_string(i);
    EXPECT_EQ(registry_->GetHost(host)->aggregator_id(), shards.Lookup(host)->id()) << host;
  }
  for (auto& c : contexts) c->TryCancel();
  for (auto& st : streams) st->Finish();
}

// Streams opening, being pushed to, and ending (closed, cancelled, timed out)
// all at once must neither crash nor leave a host marked connected.
TEST_F(AgentControlServiceTest, ManyStreamsComeAndGoWhileAssignmentsChange) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  ASSERT_TRUE(AddAggregator("agg-2").ok());
  std::atomic<bool> stop{false};
  std::thread pusher([&] {
    for (int i = 0; !stop.load(); ++i) {
      clock_.Advance(absl::Seconds(11));  // both aggregators die; one comes back
      AddAggregator(i % 2 == 0 ? "agg-1" : "agg-2");
      service_->PushAssignmentChanges();
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  std::vector<std::thread> agents;
  for (int a = 0; a < 16; ++a) {
    agents.emplace_back([&, a] {
      const std::string host = "host-" + std::to_string(a);
      const std::string instance = "inst-" + std::to_string(a);
      for (int round = 0; round < 4; ++round) {
        v1::RegisterResponse resp;
        Register(host, instance, &resp);  // may be UNAVAILABLE for a moment
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(150));
        auto stream = stub_->Control(&ctx);
        stream->Write(Hello(host, instance));
        v1::ControlMessage in;
        if ((a + round) % 3 == 0) {
          stream->Read(&in);
          ctx.TryCancel();
        } else if ((a + round) % 3 == 1) {
          stream->WritesDone();
        }
        while (stream->Read(&in)) {
        }
        stream->Finish();
      }
    });
  }
  for (auto& t : agents) t.join();
  stop = true;
  pusher.join();
  for (int a = 0; a < 16; ++a) EXPECT_TRUE(WaitConnected("host-" + std::to_string(a), false));
  EXPECT_EQ(service_->OpenStreams(), 0u);
}

TEST_F(AgentControlServiceTest, PushesProbeSetsOnlyToHostsWhoseSetChanged) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  v1::RegisterResponse resp;
  ASSERT_TRUE(Register("web-1", "inst-a", &resp).ok());
  ASSERT_EQ(resp.probes().probes_size(), 3) << "the default configuration: " << resp.DebugString();
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  ASSERT_TRUE(stream->Write(Hello("web-1", "inst-a")));
  v1::ControlMessage in = ReadStart(stream);
  ASSERT_TRUE(in.has_probes());
  EXPECT_EQ(in.probes().probes_size(), 3);

  // A configuration for other hosts: web-1's set is unchanged, nothing sent.
  v1::PutProbeConfigRequest other;
  other.set_name("db_only");
  other.add_probes()->set_probe("biolatency");
  other.set_selector("role=db");
  ASSERT_TRUE(probes_->Put(other, "test").ok());
  EXPECT_EQ(SetsPushed(), 0) << "a walk that sent nothing is not counted";
  // One that picks web-1 (by host id): pushed, with a newer version.
  v1::PutProbeConfigRequest web;
  web.set_name("web_tcp");
  web.add_probes()->set_probe("tcp");
  web.set_selector("host=~web-.*");
  auto put = probes_->Put(web, "test");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(SetsPushed(), 1) << "the walk (run by Put) sent web-1 its set";
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_probes());
  EXPECT_EQ(in.probes().version(), put->version());
  ASSERT_EQ(in.probes().probes_size(), 4);
  EXPECT_EQ(in.probes().probes(3).key(), "tcp");
  // The tally counts web-1 pending for web_tcp until it acknowledges.
  v1::ProbeConfigStatus status = service_->applied().Status(*put, *registry_);
  EXPECT_EQ(status.hosts_targeted(), 1u);
  EXPECT_EQ(status.hosts_pending(), 1u);

  ASSERT_TRUE(probes_->Delete("web_tcp", 0, "test").ok());
  ASSERT_TRUE(stream->Read(&in));
  EXPECT_EQ(in.probes().probes_size(), 3) << "switched off again";

  ctx.TryCancel();
  stream->Finish();
}

}  // namespace
}  // namespace andon::controller

namespace andon::controller {
namespace {

TEST_F(AgentControlServiceTest, HostLabelsGoOutAtRegisterAndToTheHostWhenTheyChange) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  v1::RegisterResponse resp;
  grpc::ClientContext register_ctx;
  v1::RegisterRequest req;
  *req.mutable_host() = MakeHostInfo("web-1", {{"role", "web"}});
  req.set_instance_id("inst-a");
  ASSERT_TRUE(stub_->Register(&register_ctx, req, &resp).ok());
  EXPECT_EQ(resp.host_labels().labels().at("role"), "web");
  ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("db-1", {{"role", "db"}}), "inst-db").ok());

  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  v1::AgentMessage hello = Hello("web-1", "inst-a");
  *hello.mutable_hello()->mutable_host() = req.host();
  ASSERT_TRUE(stream->Write(hello));
  EXPECT_EQ(ReadStart(stream).has_probes(), true);
  // Another host's change sends web-1 nothing; its own change sends it its
  // new labels (and nothing else: its probe set is the same).
  ASSERT_TRUE(registry_->SetHostLabels("db-1", {{"tier", "x"}}, {}).ok());
  service_->PushProbeChanges();
  ASSERT_TRUE(registry_->SetHostLabels("web-1", {{"tier", "canary"}}, {}).ok());
  service_->PushProbeChanges();
  v1::ControlMessage in;
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_host_labels()) << in.DebugString();
  EXPECT_EQ(in.host_labels().labels().at("tier"), "canary");
  EXPECT_EQ(in.host_labels().labels().at("role"), "web");
  // Nothing changed since: another walk sends nothing more. A heartbeat
  // interval change is the next (and only) message, proving it.
  service_->PushProbeChanges();
  for (int i = 0; i < 1250; ++i) {
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("bulk-" + std::to_string(i)), "inst").ok());
  }
  ASSERT_EQ(service_->PushHeartbeatInterval(), 1u);
  ASSERT_TRUE(stream->Read(&in));
  EXPECT_EQ(in.msg_case(), v1::ControlMessage::kHeartbeatIntervalMs) << in.DebugString();
  ctx.TryCancel();
  stream->Finish();
}

TEST_F(AgentControlServiceTest, AgentsAreToldASlowerHeartbeatAsTheFleetGrows) {
  ASSERT_TRUE(AddAggregator("agg-1").ok());
  v1::RegisterResponse resp;
  ASSERT_TRUE(Register("web-1", "inst-a", &resp).ok());
  EXPECT_EQ(resp.heartbeat_interval_ms(), 1000u);
  grpc::ClientContext ctx;
  auto stream = stub_->Control(&ctx);
  ASSERT_TRUE(stream->Write(Hello("web-1", "inst-a")));
  v1::ControlMessage in = ReadStart(stream);
  ASSERT_TRUE(in.has_probes());
  EXPECT_EQ(service_->PushHeartbeatInterval(), 0u) << "nothing changed yet";

  // 1,250 hosts at the default 500 heartbeats a second: every 3 s.
  for (int i = 0; i < 1250; ++i) {
    ASSERT_TRUE(registry_->RegisterHost(MakeHostInfo("db-" + std::to_string(i)), "inst-db").ok());
  }
  ASSERT_EQ(registry_->HeartbeatInterval(), absl::Seconds(3));
  EXPECT_EQ(service_->PushHeartbeatInterval(), 1u);
  ASSERT_TRUE(stream->Read(&in));
  EXPECT_EQ(in.heartbeat_interval_ms(), 3000u);
  EXPECT_EQ(service_->PushHeartbeatInterval(), 0u) << "told once";
  // A host registering now is told the new interval at once.
  ASSERT_TRUE(Register("web-2", "inst-b", &resp).ok());
  EXPECT_EQ(resp.heartbeat_interval_ms(), 3000u);
  ctx.TryCancel();
}

}  // namespace
}  // namespace andon::controller
