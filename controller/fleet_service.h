#pragma once

#include <grpcpp/grpcpp.h>

#include "andon/v1/fleet.grpc.pb.h"
#include "controller/fleet_api.h"
#include "controller/host_labels_api.h"
#include "controller/registry.h"

namespace andon::controller {

// gRPC transport for the Fleet API (callback API): decodes, delegates to
// fleet_api.h, encodes. Thread-safe; holds no state of its own.
class FleetService final : public v1::Fleet::CallbackService {
 public:
  // `registry`, `labels` and `drains` must outlive the service; without
  // `labels`, SetHostLabels is UNIMPLEMENTED, and without `drains`,
  // DrainAggregator.
  explicit FleetService(Registry* registry, HostLabelsApi* labels = nullptr,
                        AggregatorDrainApi* drains = nullptr)
      : registry_(registry), labels_(labels), drains_(drains) {}

  grpc::ServerUnaryReactor* ListHosts(grpc::CallbackServerContext* context,
                                      const v1::ListHostsRequest* request,
                                      v1::ListHostsResponse* response) override;
  grpc::ServerUnaryReactor* GetHost(grpc::CallbackServerContext* context,
                                    const v1::GetHostRequest* request, v1::Host* response) override;
  grpc::ServerUnaryReactor* SetHostLabels(grpc::CallbackServerContext* context,
                                          const v1::SetHostLabelsRequest* request,
                                          v1::Host* response) override;
  grpc::ServerUnaryReactor* ListAggregators(grpc::CallbackServerContext* context,
                                            const v1::ListAggregatorsRequest* request,
                                            v1::ListAggregatorsResponse* response) override;
  grpc::ServerUnaryReactor* DrainAggregator(grpc::CallbackServerContext* context,
                                            const v1::DrainAggregatorRequest* request,
                                            v1::Aggregator* response) override;
  grpc::ServerUnaryReactor* RegisterAggregator(grpc::CallbackServerContext* context,
                                               const v1::RegisterAggregatorRequest* request,
                                               v1::RegisterAggregatorResponse* response) override;

 private:
  Registry* const registry_;
  HostLabelsApi* const labels_;
  AggregatorDrainApi* const drains_;
};

}  // namespace andon::controller
