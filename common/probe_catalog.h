#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/probes.pb.h"

namespace andon {

// The built-in probes: their names, metrics (names fixed here, shared by the
// agent that emits them, the aggregators that store them and the controller
// that lists them), parameters and attach points. Immutable; thread-safe.
const std::vector<v1::CatalogProbe>& BuiltinProbes();

// The catalog entry named `name`, or NOT_FOUND listing the built-in probes
// and the generic forms.
absl::StatusOr<const v1::CatalogProbe*> FindBuiltinProbe(absl::string_view name);

// The metrics of built-in probe `name` (empty for an unknown name).
std::vector<v1::MetricInfo> BuiltinMetrics(absl::string_view name);

// The generic probe forms, as the catalog lists them.
const std::vector<std::string>& GenericProbeForms();

}  // namespace andon
