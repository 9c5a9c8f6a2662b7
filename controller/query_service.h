#pragma once

#include <grpcpp/grpcpp.h>

#include "andon/v1/query.grpc.pb.h"
#include "controller/query_router.h"

namespace andon::controller {

// gRPC transport for the controller's Query service: hands each query to the
// QueryRouter without blocking a gRPC thread. Thread-safe.
class QueryService final : public v1::Query::CallbackService {
 public:
  // `router` must outlive the service.
  explicit QueryService(QueryRouter* router) : router_(router) {}

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const v1::QueryRequest* request,
                                  v1::QueryResponse* response) override;
  grpc::ServerUnaryReactor* ListMetrics(grpc::CallbackServerContext* context,
                                        const v1::ListMetricsRequest* request,
                                        v1::ListMetricsResponse* response) override;

 private:
  QueryRouter* const router_;
};

}  // namespace andon::controller
