#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

namespace andon::agent {

// An insecure channel to `target` (host:port) with keepalive pings, so that a
// peer that vanished without closing its connection (host power loss,
// network partition) breaks the agent's long-lived streams within about 30 s
// instead of leaving them hanging.
std::shared_ptr<grpc::Channel> NewAgentChannel(const std::string& target);

}  // namespace andon::agent
