#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "andon/v1/fleet.grpc.pb.h"
#include "common/stop_signal.h"

namespace andon::aggregator {

struct RegistrarOptions {
  std::string controller;    // host:port of the controller's gRPC server
  std::string id;            // this aggregator's id
  std::string address;       // gRPC host:port agents should use
  std::string http_address;  // /metrics host:port
  std::string parent_id;     // the aggregator this one forwards to; "" for none
  v1::AggregatorRole role = v1::AGGREGATOR_LEAF;
  // Its share of hosts relative to the other leaves'; 0: the controller's
  // default (100).
  uint32_t weight = 0;
  // Called on the registrar's thread with every successful answer (the
  // parent's address and the forwarding rules may change between them).
  std::function<void(const v1::RegisterAggregatorResponse&)> on_registered;
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
  // Calls that failed so far (the controller unreachable or refusing).
  int64_t failed_attempts() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // One RegisterAggregator call; on success sets the next heartbeat delay.
  grpc::Status RegisterOnce(absl::Duration* interval) ABSL_LOCKS_EXCLUDED(mu_);

  const RegistrarOptions options_;
  const std::string instance_id_;  // this process's, sent with every registration
  std::unique_ptr<v1::Fleet::Stub> stub_;
  std::thread thread_;
  StopSignal stop_;

  mutable absl::Mutex mu_;
  int64_t registrations_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::aggregator
