#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace andon {

struct ChannelOptions {
  // gRPC's own reconnect backoff grows to 2 minutes by default, so a peer
  // that restarts stays unreachable long after it is back. Bounded here.
  absl::Duration initial_reconnect_backoff = absl::Milliseconds(500);
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
  // Keepalive pings break long-lived streams to a peer that vanished without
  // closing its connection (power loss, partition) within about 30 s.
  bool keepalive = true;
};

// An insecure channel to `target` (host:port) with Andon's settings. Every
// process-to-process channel in Andon is made here.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const ChannelOptions& options = {});

}  // namespace andon
