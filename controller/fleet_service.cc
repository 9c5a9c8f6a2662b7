#include "controller/fleet_service.h"

#include "common/grpc_status.h"
#include "controller/fleet_api.h"

namespace andon::controller {
namespace {

// Finishes a unary call with `result`, copying the value into `response`.
template <typename T>
grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context, absl::StatusOr<T> result,
                                T* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (result.ok()) *response = std::move(*result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* FleetService::ListHosts(grpc::CallbackServerContext* context,
                                                  const v1::ListHostsRequest* request,
                                                  v1::ListHostsResponse* response) {
  return Reply(context, controller::ListHosts(*registry_, *request), response);
}

grpc::ServerUnaryReactor* FleetService::GetHost(grpc::CallbackServerContext* context,
                                                const v1::GetHostRequest* request,
                                                v1::Host* response) {
  return Reply(context, controller::GetHost(*registry_, *request), response);
}

grpc::ServerUnaryReactor* FleetService::SetHostLabels(grpc::CallbackServerContext* context,
                                                      const v1::SetHostLabelsRequest* request,
                                                      v1::Host* response) {
  if (labels_ == nullptr) {
    return Reply(
        context,
        absl::StatusOr<v1::Host>(absl::UnimplementedError("host labels are not served here")),
        response);
  }
  return Reply(context, labels_->Set(*request, context->peer()), response);
}

grpc::ServerUnaryReactor* FleetService::ListAggregators(grpc::CallbackServerContext* context,
                                                        const v1::ListAggregatorsRequest*,
                                                        v1::ListAggregatorsResponse* response) {
  return Reply(context,
               absl::StatusOr<v1::ListAggregatorsResponse>(controller::ListAggregators(*registry_)),
               response);
}

grpc::ServerUnaryReactor* FleetService::DrainAggregator(grpc::CallbackServerContext* context,
                                                        const v1::DrainAggregatorRequest* request,
                                                        v1::Aggregator* response) {
  if (drains_ == nullptr) {
    return Reply(context,
                 absl::StatusOr<v1::Aggregator>(
                     absl::UnimplementedError("draining aggregators is not served here")),
                 response);
  }
  return Reply(context, drains_->Drain(*request, context->peer()), response);
}

grpc::ServerUnaryReactor* FleetService::RegisterAggregator(
    grpc::CallbackServerContext* context, const v1::RegisterAggregatorRequest* request,
    v1::RegisterAggregatorResponse* response) {
  return Reply(context, controller::RegisterAggregator(*registry_, *request), response);
}

}  // namespace andon::controller
