#include "controller/events/events_service.h"

#include "common/grpc_status.h"

namespace andon::controller {

grpc::ServerUnaryReactor* EventsService::Tail(grpc::CallbackServerContext* context,
                                              const v1::TailRequest* request,
                                              v1::TailResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::TailResponse> result = tails_->Tail(*request);
  if (result.ok()) *response = std::move(*result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace andon::controller
