#pragma once

#include <map>
#include <string>

#include "andon/v1/probes.pb.h"
#include "controller/probes/probe_configs.h"
#include "controller/registry.h"

namespace andon::controller {

// How the connected hosts a configuration targets answered it. A host is
// pending until its heartbeat reports the probe-set version it was last
// pushed (`pushed`: host id -> version); then it has applied the
// configuration when every probe of it is attached, and failed when one
// failed (or could not run there because another configuration holds it
// with other parameters). Failure reasons are grouped with their counts.
// Reads a snapshot of the registry; thread-safe as its arguments are.
v1::ProbeConfigStatus ComputeProbeStatus(const v1::ProbeConfig& config, const ProbeConfigs& configs,
                                         const Registry& registry,
                                         const std::map<std::string, uint64_t>& pushed);

}  // namespace andon::controller
