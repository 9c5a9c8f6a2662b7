#include "common/label_matcher.h"

#include <re2/re2.h>

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/series_key.h"

namespace andon {

absl::StatusOr<LabelMatcher> LabelMatcher::Compile(const v1::LabelMatcher& spec) {
  if (!IsValidLabelName(spec.name())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "matcher label name '", spec.name(), "' is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)"));
  }
  switch (spec.op()) {
    case v1::LabelMatcher::EQ:
    case v1::LabelMatcher::NEQ:
      return LabelMatcher(spec, nullptr);
    case v1::LabelMatcher::REGEX:
    case v1::LabelMatcher::NOT_REGEX: {
      RE2::Options options;
      options.set_log_errors(false);
      auto pattern = std::make_shared<const RE2>(spec.value(), options);
      if (!pattern->ok()) {
        return absl::InvalidArgumentError(absl::StrCat("matcher on label '", spec.name(),
                                                       "': bad regex '", spec.value(),
                                                       "': ", pattern->error()));
      }
      return LabelMatcher(spec, std::move(pattern));
    }
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("matcher on label '", spec.name(), "' has unknown op ", spec.op()));
}

bool LabelMatcher::Matches(const v1::SeriesKey& key) const {
  return MatchesValue(LabelValue(key, spec_.name()));
}

bool LabelMatcher::MatchesValue(absl::string_view value) const {
  switch (spec_.op()) {
    case v1::LabelMatcher::EQ:
      return value == spec_.value();
    case v1::LabelMatcher::NEQ:
      return value != spec_.value();
    case v1::LabelMatcher::REGEX:
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *pattern_);
    case v1::LabelMatcher::NOT_REGEX:
      return !RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *pattern_);
    default:
      return false;
  }
}

}  // namespace andon
