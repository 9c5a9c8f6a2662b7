#include "controller/audit/audit_service.h"

#include "common/grpc_status.h"

namespace andon::controller {

grpc::ServerUnaryReactor* AuditService::ListAudit(grpc::CallbackServerContext* context,
                                                  const v1::ListAuditRequest* request,
                                                  v1::ListAuditResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::ListAuditResponse> result = log_->List(*request);
  if (result.ok()) *response = std::move(*result);
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

}  // namespace andon::controller
