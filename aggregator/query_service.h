#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "aggregator/query_engine.h"
#include "andon/v1/query.grpc.pb.h"
#include "common/work_pool.h"

namespace andon::aggregator {

// Limits of the Query service.
struct QueryServiceOptions {
  size_t threads = 2;      // queries run at once, off gRPC's threads
  size_t max_queued = 64;  // waiting beyond these are refused RESOURCE_EXHAUSTED
  absl::Duration max_time = absl::Seconds(30);  // also bounded by the caller's deadline
};

// The Query gRPC service of an aggregator: Query runs QueryEngine on its own
// threads (gRPC's callback threads only queue it), within the caller's
// deadline and max_time, and stops when the caller cancels; ListMetrics
// answers from the metric catalog. Thread-safe; the engine must outlive the
// service, and the service the gRPC server.
class QueryService final : public v1::Query::CallbackService {
 public:
  explicit QueryService(const QueryEngine* engine, QueryServiceOptions options = {});

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const v1::QueryRequest* request,
                                  v1::QueryResponse* response) override;
  grpc::ServerUnaryReactor* ListMetrics(grpc::CallbackServerContext* context,
                                        const v1::ListMetricsRequest* request,
                                        v1::ListMetricsResponse* response) override;

 private:
  const QueryEngine* engine_;
  const QueryServiceOptions options_;
  WorkPool pool_;
};

}  // namespace andon::aggregator
