#pragma once

#include <grpcpp/grpcpp.h>

#include "andon/v1/probes.grpc.pb.h"
#include "controller/probes/probe_api.h"

namespace andon::controller {

// gRPC transport for the Probes API (callback API): decodes, delegates to
// ProbeApi with the caller's peer address, encodes. Thread-safe; no state.
class ProbeService final : public v1::Probes::CallbackService {
 public:
  // `api` must outlive the service.
  explicit ProbeService(ProbeApi* api) : api_(api) {}

  grpc::ServerUnaryReactor* ListCatalog(grpc::CallbackServerContext* context,
                                        const v1::ListCatalogRequest* request,
                                        v1::ListCatalogResponse* response) override;
  grpc::ServerUnaryReactor* PutProbeConfig(grpc::CallbackServerContext* context,
                                           const v1::PutProbeConfigRequest* request,
                                           v1::ProbeConfig* response) override;
  grpc::ServerUnaryReactor* DeleteProbeConfig(grpc::CallbackServerContext* context,
                                              const v1::DeleteProbeConfigRequest* request,
                                              v1::DeleteProbeConfigResponse* response) override;
  grpc::ServerUnaryReactor* ListProbeConfigs(grpc::CallbackServerContext* context,
                                             const v1::ListProbeConfigsRequest* request,
                                             v1::ListProbeConfigsResponse* response) override;
  grpc::ServerUnaryReactor* GetProbeStatus(grpc::CallbackServerContext* context,
                                           const v1::GetProbeStatusRequest* request,
                                           v1::ProbeConfigStatus* response) override;

 private:
  ProbeApi* const api_;
};

}  // namespace andon::controller
