#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "agent/probe.h"
#include "andon/v1/probes.pb.h"

namespace andon::agent {

// Builds the (not yet initialised) Probe for one instance of a host's probe
// set: a catalog probe with its typed parameters, or a generic probe. Fails
// with NOT_FOUND for a probe this agent does not know (an older agent than
// the controller) and INVALID_ARGUMENT for a bad spec.
absl::StatusOr<std::unique_ptr<Probe>> CreateProbe(const v1::ProbeInstance& instance);

}  // namespace andon::agent
