#include "aggregator/query_engine.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/query_plan.h"
#include "common/query_result.h"
#include "common/series_key.h"
#include "common/status_macros.h"

namespace andon::aggregator {
namespace {

// The deadline and cancellation are checked once per this many windows.
constexpr int64_t kCheckEvery = 4096;

}  // namespace

absl::StatusOr<v1::QueryResponse> QueryEngine::Run(const v1::QueryRequest& request,
                                                   const QueryControl& control) const {
  ANDON_ASSIGN_OR_RETURN(QueryPlan plan, PlanQuery(request, *catalog_));
  QueryReducer reducer(&plan);
  int64_t points_scanned = 0;
  absl::Status stopped;  // why the scan stopped early: cancelled, or an error
  std::string cut;       // why the scan was cut short; the answer is partial
  auto keep_going = [&]() {
    if (++points_scanned > max_points_scanned_) {
      cut = absl::StrCat("the scan stopped at the limit of ", max_points_scanned_,
                         " stored windows: some data is left out; narrow the query with "
                         "matchers (e.g. host=...) or a shorter range");
      return false;
    }
    if (points_scanned % kCheckEvery != 0) return true;
    if (control.cancelled && control.cancelled()) {
      stopped = absl::CancelledError("query cancelled by its caller");
    } else if (clock_->Now() > control.deadline) {
      cut = absl::StrCat("the scan ran out of time after ", points_scanned,
                         " stored windows: some data is left out; narrow the query with "
                         "matchers or a shorter range");
    }
    return stopped.ok() && cut.empty();
  };

  const LevelChoice level = ChooseLevel(plan.start_ns, plan.end_ns, plan.step_ns,
                                        absl::ToUnixNanos(clock_->Now()), store_->retention());
  ANDON_ASSIGN_OR_RETURN(std::vector<SeriesRef> series,
                         store_->SelectSeries(plan.metric.name(), plan.matchers));
  // Coarse windows from the roll-up point on are not complete yet.
  int64_t split = plan.end_ns;
  if (level.level != Level::kRaw) {
    const int64_t width = LevelWidthNs(level.level);
    const int64_t rolled = store_->rolled_up_until_ns();
    split = rolled - ((rolled % width) + width) % width;
  }
  for (const SeriesRef& ref : series) {
    std::vector<std::string> values;
    values.reserve(plan.group_by.size());
    for (const std::string& name : plan.group_by) values.emplace_back(LabelValue(ref.key, name));
    absl::Status merged;
    auto add = [&](int64_t window_start_ns, int64_t /*window_ns*/, const v1::Value& value) {
      if (!keep_going()) return false;
      merged = reducer.Add(values, window_start_ns, value);
      return merged.ok();
    };
    // Coarse windows up to the roll-up point, raw ones after it.
    ANDON_RETURN_IF_ERROR(
        store_->ScanPoints(level.level, ref.id, plan.start_ns, std::min(plan.end_ns, split), add));
    if (merged.ok() && stopped.ok() && cut.empty() && split < plan.end_ns) {
      ANDON_RETURN_IF_ERROR(store_->ScanPoints(Level::kRaw, ref.id, std::max(plan.start_ns, split),
                                               plan.end_ns, add));
    }
    ANDON_RETURN_IF_ERROR(stopped);
    if (!merged.ok()) {
      return absl::InternalError(absl::StrCat("stored windows of series ",
                                              SeriesKeyToString(ref.key),
                                              " do not merge: ", merged.message()));
    }
    if (!cut.empty()) break;
  }
  v1::QueryResponse out = plan.typed ? reducer.Typed() : reducer.Finish();
  if (!cut.empty()) {
    out.set_partial(true);
    out.add_warnings(std::move(cut));
  }
  if (!level.warning.empty()) out.add_warnings(level.warning);
  return out;
}

}  // namespace andon::aggregator
