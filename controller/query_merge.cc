#include "controller/query_merge.h"

#include "common/query_result.h"
#include "common/status_macros.h"

namespace andon::controller {

absl::StatusOr<v1::QueryResponse> MergeTypedResponses(
    const QueryPlan& plan, const std::vector<const v1::QueryResponse*>& typed) {
  QueryReducer reducer(&plan);
  uint32_t truncated_upstream = 0;
  for (const v1::QueryResponse* r : typed) {
    truncated_upstream += r->series_truncated();
    ANDON_RETURN_IF_ERROR(reducer.AddTyped(*r));
  }
  v1::QueryResponse out = plan.typed ? reducer.Typed() : reducer.Finish();
  out.set_series_truncated(out.series_truncated() + truncated_upstream);
  // An answer cut short upstream makes the merged one partial too.
  for (const v1::QueryResponse* r : typed) {
    if (r->partial()) out.set_partial(true);
    for (const std::string& w : r->warnings()) out.add_warnings(w);
    for (const std::string& m : r->missing()) out.add_missing(m);
  }
  return out;
}

}  // namespace andon::controller
