#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace andon {

// gRPC refuses larger messages with RESOURCE_EXHAUSTED before they reach a
// service. Comfortably above a full ingest batch (50,000 points).
inline constexpr int kMaxReceiveMessageBytes = 8 * 1024 * 1024;

// Starts an insecure gRPC server on `address` ("host:port"; port 0 picks
// one) serving `services` (which must outlive it), with Andon's message size
// limit and without SO_REUSEPORT, so a second daemon on a taken port fails. Sets `*port` to the
// bound port. Fails with a message naming the address when it cannot listen there.
// A service that is also a QueuedService gets its queues added and started;
// it stops them after the server's Shutdown().
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, const std::vector<grpc::Service*>& services, int* port);

}  // namespace andon
