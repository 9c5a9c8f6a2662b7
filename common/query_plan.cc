#include "common/query_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/labels.h"
#include "common/metric_catalog.h"
#include "common/status_macros.h"

namespace andon {
namespace {

constexpr int64_t kNanosPerSecond = 1000 * 1000 * 1000;
// Keeps seconds * 1e9 inside int64 (until year 2255).
constexpr int64_t kMaxSeconds = 9'000'000'000;
// Points are stamped in ms: a finer step would stamp two buckets alike.
constexpr int64_t kMinStepNs = 1000 * 1000;

absl::StatusOr<int64_t> TimestampNanos(const google::protobuf::Timestamp& t,
                                       absl::string_view what) {
  if (t.seconds() < 0 || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() >= kNanosPerSecond) {
    return absl::InvalidArgumentError(absl::StrCat("query ", what, " is not a valid timestamp"));
  }
  return t.seconds() * kNanosPerSecond + t.nanos();
}

absl::StatusOr<int64_t> StepNanos(const google::protobuf::Duration& step) {
  if (step.seconds() < 0 || step.nanos() < 0) {
    return absl::InvalidArgumentError("query step must not be negative");
  }
  if (step.seconds() > kMaxSeconds) return kMaxQueryRangeNs;  // One bucket anyway.
  const int64_t ns = step.seconds() * kNanosPerSecond + step.nanos();
  if (ns == 0) return kDefaultStepNs;
  if (ns < kMinStepNs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query step ", absl::FormatDuration(absl::Nanoseconds(ns)),
        " is below the limit of 1ms (windows are 1s wide; 0 means one point per window)"));
  }
  return ns;
}

absl::Status CheckRange(const v1::QueryRequest& request, QueryPlan& plan) {
  if (!request.has_start() || !request.has_end()) {
    return absl::InvalidArgumentError("query needs both start and end");
  }
  ANDON_ASSIGN_OR_RETURN(plan.start_ns, TimestampNanos(request.start(), "start"));
  ANDON_ASSIGN_OR_RETURN(plan.end_ns, TimestampNanos(request.end(), "end"));
  if (plan.end_ns <= plan.start_ns) {
    return absl::InvalidArgumentError(
        absl::StrCat("query end must be after start (start ",
                     absl::FormatTime(absl::FromUnixNanos(plan.start_ns)), ", end ",
                     absl::FormatTime(absl::FromUnixNanos(plan.end_ns)), ")"));
  }
  const int64_t range = plan.end_ns - plan.start_ns;
  if (range > kMaxQueryRangeNs) {
    return absl::InvalidArgumentError(absl::StrCat("query range of ",
                                                   absl::FormatDuration(absl::Nanoseconds(range)),
                                                   " is longer than the limit of 31 days"));
  }
  ANDON_ASSIGN_OR_RETURN(plan.step_ns, StepNanos(request.step()));
  const int64_t buckets = (range + plan.step_ns - 1) / plan.step_ns;
  if (buckets > kMaxQueryBuckets) {
    const int64_t min_step_s =
        (range + kMaxQueryBuckets * kNanosPerSecond - 1) / (kMaxQueryBuckets * kNanosPerSecond);
    return absl::InvalidArgumentError(
        absl::StrCat("query step ", absl::FormatDuration(absl::Nanoseconds(plan.step_ns)),
                     " gives ", buckets, " buckets, more than the limit of ", kMaxQueryBuckets,
                     "; use a step of at least ", min_step_s, "s"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QueryPlan> PlanQuery(const v1::QueryRequest& request, const MetricCatalog& catalog) {
  QueryPlan plan;
  ANDON_ASSIGN_OR_RETURN(plan.metric, catalog.Lookup(request.metric()));
  ANDON_RETURN_IF_ERROR(CheckRange(request, plan));
  for (const std::string& name : request.group_by()) {
    if (!IsValidLabelName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by label name '", name, "' is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)"));
    }
    if (std::find(plan.group_by.begin(), plan.group_by.end(), name) == plan.group_by.end()) {
      plan.group_by.push_back(name);
    }
  }
  for (const v1::LabelMatcher& spec : request.matchers()) {
    ANDON_ASSIGN_OR_RETURN(LabelMatcher matcher, LabelMatcher::Compile(spec));
    plan.matchers.push_back(std::move(matcher));
  }
  ANDON_ASSIGN_OR_RETURN(plan.fn, ParseQueryFn(request.fn(), plan.metric));
  plan.limit = request.limit() == 0 ? kDefaultSeriesLimit : request.limit();
  if (plan.fn.kind == QueryFnKind::kTopK && !request.typed()) plan.limit = plan.fn.k;
  plan.typed = request.typed();
  return plan;
}

}  // namespace andon
