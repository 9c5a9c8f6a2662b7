#include "controller/probes/probe_service.h"

#include "common/grpc_status.h"

namespace andon::controller {
namespace {

template <typename T>
grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context, absl::StatusOr<T> result,
                                T* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (result.ok()) *response = std::move(*result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* ProbeService::ListCatalog(grpc::CallbackServerContext* context,
                                                    const v1::ListCatalogRequest*,
                                                    v1::ListCatalogResponse* response) {
  return Reply(context, absl::StatusOr<v1::ListCatalogResponse>(api_->ListCatalog()), response);
}

grpc::ServerUnaryReactor* ProbeService::PutProbeConfig(grpc::CallbackServerContext* context,
                                                       const v1::PutProbeConfigRequest* request,
                                                       v1::ProbeConfig* response) {
  return Reply(context, api_->Put(*request, context->peer()), response);
}

grpc::ServerUnaryReactor* ProbeService::DeleteProbeConfig(
    grpc::CallbackServerContext* context, const v1::DeleteProbeConfigRequest* request,
    v1::DeleteProbeConfigResponse* response) {
  return Reply(context, api_->Delete(*request, context->peer()), response);
}

grpc::ServerUnaryReactor* ProbeService::ListProbeConfigs(grpc::CallbackServerContext* context,
                                                         const v1::ListProbeConfigsRequest*,
                                                         v1::ListProbeConfigsResponse* response) {
  return Reply(context, absl::StatusOr<v1::ListProbeConfigsResponse>(api_->List()), response);
}

grpc::ServerUnaryReactor* ProbeService::GetProbeStatus(grpc::CallbackServerContext* context,
                                                       const v1::GetProbeStatusRequest* request,
                                                       v1::ProbeConfigStatus* response) {
  return Reply(context, api_->Status(*request), response);
}

}  // namespace andon::controller
