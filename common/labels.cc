#include "common/labels.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace andon {

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (!(absl::ascii_isalpha(name[0]) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '_')) return false;
  }
  return true;
}

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(absl::string_view text) {
  std::map<std::string, std::string> out;
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    absl::string_view name = absl::StripAsciiWhitespace(kv.first);
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (part.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("label '", part, "' has no '='; write labels as name=value,name=value"));
    }
    if (!IsValidLabelName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("label name '", name,
                       "' is invalid; use letters, digits and '_', not starting with a digit"));
    }
    if (value.find('=') != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("label value '", value, "' contains '='"));
    }
    if (!out.emplace(std::string(name), std::string(value)).second) {
      return absl::InvalidArgumentError(absl::StrCat("label '", name, "' given twice"));
    }
  }
  return out;
}

}  // namespace andon
