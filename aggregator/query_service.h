#pragma once

#include <grpcpp/grpcpp.h>

#include "aggregator/query_engine.h"
#include "andon/v1/query.grpc.pb.h"

namespace andon::aggregator {

// The Query gRPC service of an aggregator: Query delegates to QueryEngine,
// ListMetrics answers from the metric catalog. Thread-safe; the engine must
// outlive the server.
class QueryService final : public v1::Query::CallbackService {
 public:
  explicit QueryService(const QueryEngine* engine) : engine_(engine) {}

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const v1::QueryRequest* request,
                                  v1::QueryResponse* response) override;
  grpc::ServerUnaryReactor* ListMetrics(grpc::CallbackServerContext* context,
                                        const v1::ListMetricsRequest* request,
                                        v1::ListMetricsResponse* response) override;

 private:
  const QueryEngine* engine_;
};

}  // namespace andon::aggregator
