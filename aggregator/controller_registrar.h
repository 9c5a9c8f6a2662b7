#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "andon/v1/fleet.grpc.pb.h"

namespace andon::aggregator {

struct RegistrarOptions {
  std::string controller;    // host:port of the controller's gRPC server
  std::string id;            // this aggregator's id
  std::string address;       // gRPC host:port agents should use
  std::string http_address;  // /metrics host:port
  absl::Duration rpc_timeout = absl::Seconds(3);
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(15);
};

// Keeps this aggregator registered with the controller: calls
// Fleet.RegisterAggregator at Start() and then every heartbeat_interval_ms
// the controller asks for (2000 ms if it says 0). While the controller is
// unreachable it retries with jittered backoff, logging each retry.
//
// Runs on its own thread. Start() and Stop() are called from one owning
// thread; Stop() cancels an RPC in flight and returns promptly. The other
// accessors are thread-safe.
class ControllerRegistrar {
 public:
  explicit ControllerRegistrar(RegistrarOptions options);
  ~ControllerRegistrar();
  ControllerRegistrar(const ControllerRegistrar&) = delete;
  ControllerRegistrar& operator=(const ControllerRegistrar&) = delete;

  void Start();
  void Stop();

  // Successful registrations so far.
  int64_t registrations() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  bool Stopping() const ABSL_LOCKS_EXCLUDED(mu_);
  // One RegisterAggregator call; on success sets the next heartbeat delay.
  grpc::Status RegisterOnce(absl::Duration* interval) ABSL_LOCKS_EXCLUDED(mu_);
  // Sleeps for `d` or until Stop(); false if stopping.
  bool SleepFor(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);

  const RegistrarOptions options_;
  std::unique_ptr<v1::Fleet::Stub> stub_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t registrations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::aggregator
