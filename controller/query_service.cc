#include "controller/query_service.h"

#include "common/grpc_status.h"

namespace andon::controller {

grpc::ServerUnaryReactor* QueryService::Query(grpc::CallbackServerContext* context,
                                              const v1::QueryRequest* request,
                                              v1::QueryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  router_->QueryAsync(*request, [reactor, response](absl::StatusOr<v1::QueryResponse> r) {
    if (r.ok()) *response = std::move(*r);
    reactor->Finish(ToGrpcStatus(r.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* QueryService::ListMetrics(grpc::CallbackServerContext* context,
                                                    const v1::ListMetricsRequest*,
                                                    v1::ListMetricsResponse* response) {
  *response = router_->ListMetrics();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace andon::controller
