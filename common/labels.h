#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon {

// Parses "role=db,rack=r1" into a map. Names must match [a-zA-Z_][a-zA-Z0-9_]*;
// values may not contain ',' or '='. Empty input gives an empty map.
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(absl::string_view text);

// True if `name` is a valid label or metric name.
bool IsValidLabelName(absl::string_view name);

}  // namespace andon
