#include "common/grpc_server.h"

#include <grpcpp/impl/service_type.h>

#include "absl/strings/str_cat.h"
#include "common/server_queues.h"

namespace andon {

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, const std::vector<grpc::Service*>& services, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // gRPC sets SO_REUSEPORT by default, which lets a second daemon bind the
  // same port and silently share its traffic; fail to bind instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Without keepalive a peer that lost power leaves its streams (and their
  // reactors, and a host marked connected) open for gRPC's default 2 hours.
  // Once a minute: with 10,000 agents that is 170 pings a second, where
  // every 15 s was 670, as many as the agents' heartbeats; a host that stops
  // heartbeating is stale long before (Registry::StaleAfter).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  // Accept the clients' own keepalive pings (every 60 s, common/grpc_channel)
  // instead of answering them with GOAWAY as too frequent.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 30000);
  // A peer that opened a connection and went away before the HTTP/2
  // handshake (an agent that gave up during a reconnect storm) holds a file
  // descriptor for gRPC's default two minutes; 20 s is ample for a real
  // handshake on a loaded server.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 20000);
  // Bandwidth-delay probing pings each connection after reads to size its
  // flow-control window; Andon's streams carry small messages, and with
  // thousands of connections the pings and their timers cost more than
  // the messages.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // Channelz keeps a node per connection and socket, registered under a
  // global lock, for a debug service Andon does not run.
  builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 0);
  std::vector<QueuedService*> queued;
  for (grpc::Service* service : services) {
    builder.RegisterService(service);
    if (auto* q = dynamic_cast<QueuedService*>(service)) {
      q->AddQueues(&builder);
      queued.push_back(q);
    }
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", address,
                                               ": address in use, malformed or not local"));
  }
  for (QueuedService* q : queued) q->StartQueues();
  return server;
}

}  // namespace andon
