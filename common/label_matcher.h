#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/query.pb.h"
#include "andon/v1/types.pb.h"

namespace re2 {
class RE2;
}

namespace andon {

// A query's label matcher, checked and compiled once: EQ / NEQ compare the
// label's value (a missing label has value ""), REGEX / NOT_REGEX fully match
// it against an RE2 pattern. Immutable after Compile(), so thread-safe;
// copies share the compiled pattern.
class LabelMatcher {
 public:
  // Fails with INVALID_ARGUMENT for an invalid label name, an unknown op or
  // a pattern RE2 cannot compile (the message quotes RE2's reason).
  static absl::StatusOr<LabelMatcher> Compile(const v1::LabelMatcher& spec);

  bool Matches(const v1::SeriesKey& key) const;
  // Whether a label value (the empty string for a missing label) matches.
  bool MatchesValue(absl::string_view value) const;

  const std::string& name() const { return spec_.name(); }
  v1::LabelMatcher::Op op() const { return spec_.op(); }
  const std::string& value() const { return spec_.value(); }

 private:
  LabelMatcher(v1::LabelMatcher spec, std::shared_ptr<const re2::RE2> pattern)
      : spec_(std::move(spec)), pattern_(std::move(pattern)) {}

  v1::LabelMatcher spec_;
  std::shared_ptr<const re2::RE2> pattern_;  // Set for REGEX / NOT_REGEX.
};

}  // namespace andon
