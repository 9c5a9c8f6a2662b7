#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace andon {

// Conversions at service boundaries; domain code speaks absl::Status only.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace andon
