#include "aggregator/query_service.h"

#include "common/grpc_status.h"
#include "common/metric_catalog.h"

namespace andon::aggregator {

grpc::ServerUnaryReactor* QueryService::Query(grpc::CallbackServerContext* context,
                                              const v1::QueryRequest* request,
                                              v1::QueryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::QueryResponse> result = engine_->Run(*request);
  if (result.ok()) *response = std::move(*result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* QueryService::ListMetrics(grpc::CallbackServerContext* context,
                                                    const v1::ListMetricsRequest* request,
                                                    v1::ListMetricsResponse* response) {
  for (const v1::MetricInfo& metric : engine_->catalog().List()) *response->add_metrics() = metric;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace andon::aggregator
