#pragma once

#include <vector>

#include "andon/v1/query.pb.h"

namespace andon::controller {

// Merges the answers of several aggregators to one query: series with the
// same labels are summed pointwise by time_ms and their totals added; the
// result is sorted by total (descending, ties by labels), cut to `limit`
// (0 = 1000) and series_truncated counts the groups cut here plus those the
// aggregators cut (an upper bound when a group spans aggregators). metric
// and kind are taken from the first response. Pure function.
v1::QueryResponse MergeQueryResponses(const std::vector<v1::QueryResponse>& responses,
                                      uint32_t limit);

}  // namespace andon::controller
