#pragma once

#include "absl/status/status.h"
#include "andon/v1/types.pb.h"

namespace andon {

// Merges `from` into `into`, as two windows of the same series combine:
// counters add, gauges combine min/max/sum/count, distributions add bucket
// counts. An empty `into` takes `from`. Fails with INVALID_ARGUMENT when the
// kinds differ, leaving `into` unchanged.
absl::Status MergeValue(const v1::Value& from, v1::Value& into);

}  // namespace andon
