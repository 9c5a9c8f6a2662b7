#include "aggregator/controller_registrar.h"

#include <atomic>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc_server.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

// A controller's Fleet service that records registrations.
class FakeFleet final : public v1::Fleet::CallbackService {
 public:
  explicit FakeFleet(uint32_t heartbeat_ms) : heartbeat_ms_(heartbeat_ms) {}

  grpc::ServerUnaryReactor* RegisterAggregator(grpc::CallbackServerContext* context,
                                               const v1::RegisterAggregatorRequest* request,
                                               v1::RegisterAggregatorResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      last_ = *request;
      ++calls_;
    }
    response->set_heartbeat_interval_ms(heartbeat_ms_);
    response->mutable_parent()->set_id("root");
    response->mutable_parent()->set_address("10.0.0.1:7410");
    v1::ForwardRule* rule = response->add_forward_rules();
    rule->set_metric("syscalls");
    rule->add_keep_labels("syscall");
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  v1::RegisterAggregatorRequest last() const {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  const uint32_t heartbeat_ms_;
  mutable absl::Mutex mu_;
  int calls_ = 0;
  v1::RegisterAggregatorRequest last_;
};

RegistrarOptions Options(int port) {
  return RegistrarOptions{.controller = "127.0.0.1:" + std::to_string(port),
                          .id = "agg-1",
                          .address = "10.0.0.5:7410",
                          .http_address = "10.0.0.5:7411",
                          .rpc_timeout = absl::Seconds(2),
                          .initial_backoff = absl::Milliseconds(20),
                          .max_backoff = absl::Milliseconds(100)};
}

// Waits up to 10 s for `done`.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

TEST(ControllerRegistrarTest, RegistersThenHeartbeatsAtTheControllersInterval) {
  FakeFleet fleet(/*heartbeat_ms=*/20);
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&fleet}, &port);
  ASSERT_TRUE(server.ok()) << server.status();
  ControllerRegistrar registrar(Options(port));
  registrar.Start();
  // The server counts a call before its reply reaches the registrar: wait
  // for the registrar's own count too.
  EXPECT_TRUE(Eventually([&] { return fleet.calls() >= 3 && registrar.registrations() >= 3; }));
  registrar.Stop();
  EXPECT_GE(registrar.registrations(), 3);
  v1::RegisterAggregatorRequest last = fleet.last();
  EXPECT_EQ(last.id(), "agg-1");
  EXPECT_EQ(last.address(), "10.0.0.5:7410");
  EXPECT_EQ(last.http_address(), "10.0.0.5:7411");
  (*server)->Shutdown();
}

TEST(ControllerRegistrarTest, SendsItsPlaceInTheTreeAndWeightAndPassesOnTheParentAndRules) {
  FakeFleet fleet(/*heartbeat_ms=*/20);
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&fleet}, &port);
  ASSERT_TRUE(server.ok()) << server.status();
  RegistrarOptions options = Options(port);
  options.parent_id = "root";
  options.role = v1::AGGREGATOR_INNER;
  options.weight = 250;
  absl::Mutex mu;
  v1::RegisterAggregatorResponse seen;
  options.on_registered = [&](const v1::RegisterAggregatorResponse& r) {
    absl::MutexLock lock(&mu);
    seen = r;
  };
  ControllerRegistrar registrar(options);
  registrar.Start();
  ASSERT_TRUE(Eventually([&] { return registrar.registrations() >= 1; }));
  registrar.Stop();
  EXPECT_EQ(fleet.last().parent_id(), "root");
  EXPECT_EQ(fleet.last().role(), v1::AGGREGATOR_INNER);
  EXPECT_EQ(fleet.last().weight(), 250u);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen.parent().address(), "10.0.0.1:7410");
  ASSERT_EQ(seen.forward_rules_size(), 1);
  EXPECT_EQ(seen.forward_rules(0).keep_labels(0), "syscall");
  (*server)->Shutdown();
}

TEST(ControllerRegistrarTest, RetriesUntilTheControllerComesUp) {
  // Find a free port, then leave it closed while the registrar starts.
  FakeFleet fleet(/*heartbeat_ms=*/20);
  int port = 0;
  {
    FakeFleet placeholder(0);
    auto probe = StartGrpcServer("127.0.0.1:0", {&placeholder}, &port);
    ASSERT_TRUE(probe.ok());
    (*probe)->Shutdown();
  }
  ControllerRegistrar registrar(Options(port));
  registrar.Start();
  // Failed attempts prove the registrar is retrying, with nothing to register with.
  ASSERT_TRUE(Eventually([&] { return registrar.failed_attempts() >= 3; }));
  EXPECT_EQ(registrar.registrations(), 0);
  int bound = 0;
  auto server = StartGrpcServer("127.0.0.1:" + std::to_string(port), {&fleet}, &bound);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Eventually([&] { return registrar.registrations() >= 1; }));
  registrar.Stop();
  (*server)->Shutdown();
}

TEST(ControllerRegistrarTest, StopDoesNotWaitForTheNextHeartbeat) {
  FakeFleet fleet(/*heartbeat_ms=*/600000);
  int port = 0;
  auto server = StartGrpcServer("127.0.0.1:0", {&fleet}, &port);
  ASSERT_TRUE(server.ok());
  ControllerRegistrar registrar(Options(port));
  registrar.Start();
  ASSERT_TRUE(Eventually([&] { return registrar.registrations() == 1; }));
  // Stop() interrupts the 10-minute wait (the test's own timeout would end a
  // Stop() that waited for the next heartbeat); no further call was made.
  registrar.Stop();
  EXPECT_EQ(fleet.calls(), 1);
  (*server)->Shutdown();
}

}  // namespace
}  // namespace andon::aggregator
