#pragma once

#include <grpcpp/grpcpp.h>

#include "andon/v1/events.grpc.pb.h"
#include "controller/events/event_tails.h"

namespace andon::controller {

// gRPC transport for live tails: delegates to EventTails. Thread-safe.
class EventsService final : public v1::Events::CallbackService {
 public:
  // `tails` must outlive the service.
  explicit EventsService(EventTails* tails) : tails_(tails) {}

  grpc::ServerUnaryReactor* Tail(grpc::CallbackServerContext* context,
                                 const v1::TailRequest* request,
                                 v1::TailResponse* response) override;

 private:
  EventTails* const tails_;
};

}  // namespace andon::controller
