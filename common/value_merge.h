#pragma once

#include "absl/status/status.h"
#include "andon/v1/types.pb.h"

namespace andon {

// Merges `from` into `into`, as two windows of the same series combine:
// counters add, gauges combine min/max/sum/count and keep the latest sample
// (common/value/gauge.h), distributions add bucket counts
// (common/value/distribution.h), top-k summaries add their bounds key by key
// (common/value/top_k.h). Each kind's merge is associative and commutative.
// An empty `into` takes `from`. Fails with INVALID_ARGUMENT, leaving `into`
// unchanged, when the kinds differ, or for distributions of different
// resolutions or a malformed `from` distribution.
absl::Status MergeValue(const v1::Value& from, v1::Value& into);

}  // namespace andon
