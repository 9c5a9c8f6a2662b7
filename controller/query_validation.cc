#include "controller/query_validation.h"

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/metric_catalog.h"
#include "common/status_macros.h"
#include "controller/proto_time.h"
#include "re2/re2.h"

namespace andon::controller {
namespace {

constexpr absl::Duration kMaxRange = absl::Hours(24 * 31);
constexpr int64_t kMaxBuckets = 11000;

absl::Status ValidateMatcher(const v1::LabelMatcher& m) {
  if (!IsValidLabelName(m.name())) {
    return absl::InvalidArgumentError(
        absl::StrCat("matcher label name '", m.name(), "' is invalid"));
  }
  if (m.op() == v1::LabelMatcher::REGEX || m.op() == v1::LabelMatcher::NOT_REGEX) {
    RE2 re(m.value(), RE2::Quiet);
    if (!re.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("matcher ", m.name(), " has a bad regex '", m.value(), "': ", re.error()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::MetricInfo> ValidateQuery(const v1::QueryRequest& request) {
  ANDON_ASSIGN_OR_RETURN(v1::MetricInfo info, LookupMetric(request.metric()));
  if (!request.has_start() || !request.has_end()) {
    return absl::InvalidArgumentError("query needs both start and end");
  }
  absl::Time start = FromProtoTime(request.start());
  absl::Time end = FromProtoTime(request.end());
  if (end <= start) {
    return absl::InvalidArgumentError(absl::StrCat("query end (", absl::FormatTime(end),
                                                   ") must be after start (",
                                                   absl::FormatTime(start), ")"));
  }
  if (end - start > kMaxRange) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query range ", absl::FormatDuration(end - start), " is longer than the 31 day limit"));
  }
  absl::Duration step = FromProtoDuration(request.step());
  if (step < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query step ", absl::FormatDuration(step), " is negative"));
  }
  if (step == absl::ZeroDuration()) step = absl::Seconds(1);
  absl::Duration remainder;  // Abseil 20220623 dereferences it: never pass nullptr
  int64_t buckets = absl::IDivDuration(end - start, step, &remainder);
  if (buckets > kMaxBuckets) {
    return absl::InvalidArgumentError(
        absl::StrCat("query asks for ", buckets, " buckets of ", absl::FormatDuration(step),
                     "; the limit is 11000: use a larger step or a shorter range"));
  }
  for (const auto& m : request.matchers()) ANDON_RETURN_IF_ERROR(ValidateMatcher(m));
  for (const auto& g : request.group_by()) {
    if (!IsValidLabelName(g)) {
      return absl::InvalidArgumentError(absl::StrCat("group_by label name '", g, "' is invalid"));
    }
  }
  return info;
}

}  // namespace andon::controller
