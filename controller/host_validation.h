#pragma once

#include "absl/status/status.h"
#include "andon/v1/agent.pb.h"
#include "andon/v1/fleet.pb.h"

namespace andon::controller {

// INVALID_ARGUMENT unless host_id is 1-253 characters of [A-Za-z0-9._-] and
// every label name is valid (see common/labels.h). The message names the bad
// field and the rule.
absl::Status ValidateHostInfo(const v1::HostInfo& info);

// INVALID_ARGUMENT unless the agent's instance id is non-empty.
absl::Status ValidateInstanceId(absl::string_view instance_id);

// INVALID_ARGUMENT unless the aggregator gave an id and a gRPC address.
absl::Status ValidateAggregator(const v1::RegisterAggregatorRequest& request);

}  // namespace andon::controller
