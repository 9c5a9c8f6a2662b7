#pragma once

#include <grpcpp/grpcpp.h>

#include "andon/v1/fleet.grpc.pb.h"
#include "controller/registry.h"

namespace andon::controller {

// gRPC transport for the Fleet API (callback API): decodes, delegates to
// fleet_api.h, encodes. Thread-safe; holds no state of its own.
class FleetService final : public v1::Fleet::CallbackService {
 public:
  // `registry` must outlive the service.
  explicit FleetService(Registry* registry) : registry_(registry) {}

  grpc::ServerUnaryReactor* ListHosts(grpc::CallbackServerContext* context,
                                      const v1::ListHostsRequest* request,
                                      v1::ListHostsResponse* response) override;
  grpc::ServerUnaryReactor* GetHost(grpc::CallbackServerContext* context,
                                    const v1::GetHostRequest* request, v1::Host* response) override;
  grpc::ServerUnaryReactor* ListAggregators(grpc::CallbackServerContext* context,
                                            const v1::ListAggregatorsRequest* request,
                                            v1::ListAggregatorsResponse* response) override;
  grpc::ServerUnaryReactor* RegisterAggregator(grpc::CallbackServerContext* context,
                                               const v1::RegisterAggregatorRequest* request,
                                               v1::RegisterAggregatorResponse* response) override;

 private:
  Registry* const registry_;
};

}  // namespace andon::controller
