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
  // closing its connection (power loss, partition) within about 70 s.
  bool keepalive = true;
  // How long one connection attempt may take (TCP and HTTP/2 handshake).
  // Kept apart from the backoff: gRPC uses its minimum reconnect backoff as
  // the connect timeout, and a 500 ms one drops every handshake slower than
  // that, which is exactly what a controller under a reconnect storm is.
  absl::Duration connect_timeout = absl::Seconds(20);
  // Non-empty: this channel gets its own TCP connection (a local subchannel
  // pool, and the key as a channel argument) instead of sharing one with
  // every channel to the same target in the process. For simulators that
  // stand in for many agents; give each a distinct key.
  std::string connection_key;
};

// An insecure channel to `target` (host:port) with Andon's settings. Every
// process-to-process channel in Andon is made here.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const ChannelOptions& options = {});

}  // namespace andon
