#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "andon/v1/query.pb.h"
#include "common/query_plan.h"

namespace andon::controller {

// Merges the typed answers (QueryRequest.typed) of several aggregators to
// one query and applies its function, exactly as one aggregator holding all
// their data would (common/query_result.h): values of the same labels and
// bucket merge exactly (counters add, histograms add bucket-wise, top-k
// summaries add their bounds), then plan.fn ranks, cuts to plan.limit and
// computes each number. series_truncated adds the groups the aggregators
// cut to those cut here (an upper bound when a group spans aggregators).
// With plan.typed the merged values are returned instead, for a caller that
// merges further. INVALID_ARGUMENT when the answers do not merge (another
// kind, a point outside the range). Pure function.
absl::StatusOr<v1::QueryResponse> MergeTypedResponses(
    const QueryPlan& plan, const std::vector<const v1::QueryResponse*>& typed);

}  // namespace andon::controller
