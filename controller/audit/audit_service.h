#pragma once

#include <grpcpp/grpcpp.h>

#include "andon/v1/audit.grpc.pb.h"
#include "controller/audit/audit_log.h"

namespace andon::controller {

// gRPC transport for the audit log: delegates to AuditLog. Thread-safe.
class AuditService final : public v1::Audit::CallbackService {
 public:
  // `log` must outlive the service.
  explicit AuditService(const AuditLog* log) : log_(log) {}

  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* context,
                                      const v1::ListAuditRequest* request,
                                      v1::ListAuditResponse* response) override;

 private:
  const AuditLog* const log_;
};

}  // namespace andon::controller
