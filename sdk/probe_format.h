#pragma once

#include <string>

#include "absl/time/time.h"
#include "andon/v1/probes.pb.h"

namespace andon::sdk {

// Human-readable tables of andonctl's `probes` commands.
std::string FormatCatalog(const v1::ListCatalogResponse& catalog);
std::string FormatProbeConfigs(const v1::ListProbeConfigsResponse& configs, absl::Time now);
std::string FormatProbeStatus(const v1::ProbeConfigStatus& status);

}  // namespace andon::sdk
