#include "agent/controller_client.h"

#include <atomic>

#include "agent/test_grpc_server.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

using testing::Eventually;
using testing::TestServer;

// A controller that answers Register with `register_status` (or an
// assignment to agg-1), records what agents send on Control, and sends one
// assignment to agg-2 after the first heartbeat.
class FakeControl final : public v1::AgentControl::CallbackService {
 public:
  grpc::Status register_status = grpc::Status::OK;
  uint32_t heartbeat_interval_ms = 50;

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const v1::RegisterRequest* req,
                                     v1::RegisterResponse* resp) override {
    registers_++;
    {
      absl::MutexLock lock(&mu_);
      last_register_ = *req;
    }
    resp->set_host_id(req->host().host_id());
    resp->mutable_aggregator()->set_id("agg-1");
    resp->mutable_aggregator()->set_address("127.0.0.1:1");
    resp->set_heartbeat_interval_ms(heartbeat_interval_ms);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(register_status);
    return reactor;
  }

  grpc::ServerBidiReactor<v1::AgentMessage, v1::ControlMessage>* Control(
      grpc::CallbackServerContext*) override {
    class Reactor final : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControlMessage> {
     public:
      explicit Reactor(FakeControl* svc) : svc_(svc) { StartRead(&in_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        if (svc_->Record(in_)) {
          out_.mutable_assignment()->set_id("agg-2");
          out_.mutable_assignment()->set_address("127.0.0.1:2");
          StartWrite(&out_);
        }
        StartRead(&in_);
      }
      void OnWriteDone(bool) override {}
      void OnDone() override { delete this; }

     private:
      FakeControl* svc_;
      v1::AgentMessage in_;
      v1::ControlMessage out_;
    };
    return new Reactor(this);
  }

  // Returns true on the first heartbeat of the server's life.
  bool Record(const v1::AgentMessage& m) {
    absl::MutexLock lock(&mu_);
    messages_.push_back(m);
    return m.has_heartbeat() && ++heartbeats_ == 1;
  }
  std::vector<v1::AgentMessage> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  v1::RegisterRequest last_register() {
    absl::MutexLock lock(&mu_);
    return last_register_;
  }
  int heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  std::atomic<int> registers_{0};

 private:
  absl::Mutex mu_;
  std::vector<v1::AgentMessage> messages_;
  v1::RegisterRequest last_register_;
  int heartbeats_ = 0;
};

class ControllerClientTest : public ::testing::Test {
 protected:
  ControllerClientOptions Options(const std::string& address) {
    ControllerClientOptions o;
    o.address = address;
    o.host.set_host_id("h1");
    o.backoff_initial = absl::Milliseconds(20);
    o.backoff_max = absl::Milliseconds(100);
    return o;
  }
  ControllerCallbacks Callbacks() {
    return {
        .on_assignment =
            [this](const v1::AggregatorRef& a) {
              absl::MutexLock lock(&mu_);
              assignments_.push_back(a.id());
            },
        .probe_statuses =
            [] {
              v1::ProbeState p;
              p.set_key("syscalls");
              p.set_state(v1::ProbeState::ATTACHED);
              p.set_events(42);
              return std::vector<v1::ProbeState>{p};
            },
        .agent_stats =
            [] {
              v1::AgentStats s;
              s.set_batches_sent(7);
              return s;
            },
        .on_fatal =
            [this](const absl::Status& s) {
              absl::MutexLock lock(&mu_);
              fatal_ = s;
            },
    };
  }
  std::vector<std::string> assignments() {
    absl::MutexLock lock(&mu_);
    return assignments_;
  }
  absl::Status fatal() {
    absl::MutexLock lock(&mu_);
    return fatal_;
  }

  prometheus::Registry registry_;
  AgentMetrics metrics_{registry_};
  absl::Mutex mu_;
  std::vector<std::string> assignments_;
  absl::Status fatal_;
};

TEST_F(ControllerClientTest, RegistersSaysHelloHeartbeatsAndFollowsAssignments) {
  FakeControl svc;
  TestServer server(&svc);
  ControllerClient client(Options(server.address()), Callbacks(), metrics_, RealClock::Get());
  client.Start();
  ASSERT_TRUE(Eventually([&] { return svc.heartbeats() >= 3; }));
  ASSERT_TRUE(Eventually([&] { return assignments().size() >= 2; }));
  EXPECT_TRUE(client.connected());
  client.Stop();

  EXPECT_EQ(svc.last_register().instance_id(), client.instance_id());
  EXPECT_EQ(client.instance_id().size(), 32u);
  std::vector<v1::AgentMessage> msgs = svc.messages();
  ASSERT_GE(msgs.size(), 4u);
  ASSERT_TRUE(msgs[0].has_hello()) << "first message must be hello";
  EXPECT_EQ(msgs[0].hello().host().host_id(), "h1");
  EXPECT_EQ(msgs[0].hello().instance_id(), client.instance_id());
  const v1::Heartbeat& hb = msgs[1].heartbeat();
  ASSERT_EQ(hb.probes_size(), 1);
  EXPECT_EQ(hb.probes(0).events(), 42u);
  EXPECT_EQ(hb.stats().batches_sent(), 7u);
  EXPECT_GT(hb.time().seconds(), 0);
  EXPECT_EQ(assignments()[0], "agg-1");  // from RegisterResponse
  EXPECT_EQ(assignments()[1], "agg-2");  // from the control stream
}

TEST_F(ControllerClientTest, ReportNowSendsAHeartbeatWithoutWaitingForTheInterval) {
  FakeControl svc;
  svc.heartbeat_interval_ms = 3600 * 1000;  // an hour: none would come in the test's life
  TestServer server(&svc);
  ControllerClient client(Options(server.address()), Callbacks(), metrics_, RealClock::Get());
  client.Start();
  ASSERT_TRUE(Eventually([&] { return client.connected(); }));
  EXPECT_EQ(svc.heartbeats(), 0);
  client.ReportNow();
  ASSERT_TRUE(Eventually([&] { return svc.heartbeats() == 1; }));
  client.ReportNow();
  ASSERT_TRUE(Eventually([&] { return svc.heartbeats() == 2; }));
  client.Stop();
}

TEST_F(ControllerClientTest, AlreadyExistsIsFatal) {
  FakeControl svc;
  svc.register_status =
      grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "host h1 is held by instance abc");
  TestServer server(&svc);
  ControllerClient client(Options(server.address()), Callbacks(), metrics_, RealClock::Get());
  client.Start();
  ASSERT_TRUE(Eventually([&] { return !fatal().ok(); }));
  EXPECT_TRUE(absl::IsAlreadyExists(fatal()));
  EXPECT_EQ(fatal().message(), "host h1 is held by instance abc");
  // The client's thread ends after a fatal answer; once it has, no retry can come.
  ASSERT_TRUE(Eventually([&] { return client.finished(); }));
  EXPECT_EQ(svc.registers_.load(), 1) << "no retries after a fatal answer";
  client.Stop();
}

TEST_F(ControllerClientTest, RetriesWhileUnreachableAndStopsPromptly) {
  FakeControl svc;
  int port = 0;
  {
    TestServer probe_port(&svc);
    port = probe_port.port();
  }  // now nothing listens on `port`
  ControllerClientOptions o = Options(absl::StrCat("127.0.0.1:", port));
  o.backoff_initial = absl::Seconds(30);  // Stop() must not wait it out
  o.register_timeout =
      absl::Milliseconds(300);  // a registration waits for the controller this long
  ControllerClient client(o, Callbacks(), metrics_, RealClock::Get());
  client.Start();
  // A failed attempt puts it into its 30 s backoff; Stop() cuts that short
  // (the test's own timeout would end a Stop() that waited it out).
  ASSERT_TRUE(Eventually([&] { return client.failed_registrations() >= 1; }));
  client.Stop();
  EXPECT_TRUE(client.finished());
  EXPECT_TRUE(fatal().ok());
}

TEST_F(ControllerClientTest, ReRegistersWhenTheStreamBreaks) {
  auto svc = std::make_unique<FakeControl>();
  auto server = std::make_unique<TestServer>(svc.get());
  const int port = server->port();
  ControllerClient client(Options(server->address()), Callbacks(), metrics_, RealClock::Get());
  client.Start();
  ASSERT_TRUE(Eventually([&] { return svc->heartbeats() >= 1; }));
  server->Shutdown();
  FakeControl svc2;
  TestServer restarted(&svc2, port);
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE(Eventually([&] { return svc2.heartbeats() >= 1; }));
  EXPECT_EQ(svc2.registers_.load(), 1);
  EXPECT_TRUE(svc2.messages()[0].has_hello());
  client.Stop();
}

}  // namespace
}  // namespace andon::agent
