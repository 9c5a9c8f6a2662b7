#include "aggregator/query_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/metric_catalog.h"

namespace andon::aggregator {

QueryService::QueryService(const QueryEngine* engine, QueryServiceOptions options)
    : engine_(engine), options_(options), pool_("query", options.threads, options.max_queued) {}

grpc::ServerUnaryReactor* QueryService::Query(grpc::CallbackServerContext* context,
                                              const v1::QueryRequest* request,
                                              v1::QueryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time deadline =
      std::min(absl::FromChrono(context->deadline()), absl::Now() + options_.max_time);
  const bool queued = pool_.TrySubmit([this, context, request, response, reactor, deadline] {
    QueryControl control;
    control.deadline = deadline;
    control.cancelled = [context] { return context->IsCancelled(); };
    absl::StatusOr<v1::QueryResponse> result = engine_->Run(*request, control);
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  if (!queued) {
    reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(
        absl::StrCat("aggregator is busy: ", options_.max_queued,
                     " queries are waiting already; retry shortly or narrow the query"))));
  }
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
