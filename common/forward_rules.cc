#include "common/forward_rules.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/labels.h"
#include "common/series_key.h"

namespace andon {

ForwardRules::ForwardRules(const std::vector<v1::ForwardRule>& rules) {
  for (const v1::ForwardRule& r : rules) {
    auto& kept = keep_[r.metric()];
    kept.insert(r.keep_labels().begin(), r.keep_labels().end());
  }
}

absl::StatusOr<ForwardRules> ForwardRules::Parse(absl::string_view text) {
  ForwardRules out;
  for (absl::string_view part : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits(':', 1));
    absl::string_view metric = absl::StripAsciiWhitespace(kv.first);
    if (!IsValidLabelName(metric)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "forward rule '", part, "': '", metric,
          "' is not a metric name; write METRIC:LABEL,LABEL;... (e.g. syscalls:comm,syscall)"));
    }
    if (out.keep_.contains(metric)) {
      return absl::InvalidArgumentError(
          absl::StrCat("forward rules name metric '", metric, "' twice; give one rule per metric"));
    }
    std::set<std::string> labels;
    for (absl::string_view l : absl::StrSplit(kv.second, ',', absl::SkipWhitespace())) {
      l = absl::StripAsciiWhitespace(l);
      if (!IsValidLabelName(l)) {
        return absl::InvalidArgumentError(
            absl::StrCat("forward rule '", part, "': '", l, "' is not a label name"));
      }
      labels.insert(std::string(l));
    }
    if (labels.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "forward rule '", part, "' keeps no label; list the labels the parent keeps after ':'"));
    }
    out.keep_[std::string(metric)] = std::move(labels);
  }
  return out;
}

std::vector<v1::ForwardRule> ForwardRules::ToProto() const {
  std::vector<v1::ForwardRule> out;
  for (const auto& [metric, labels] : keep_) {
    v1::ForwardRule r;
    r.set_metric(metric);
    for (const std::string& l : labels) r.add_keep_labels(l);
    out.push_back(std::move(r));
  }
  return out;
}

bool ForwardRules::Keeps(absl::string_view metric, absl::string_view label) const {
  auto it = keep_.find(metric);
  if (it == keep_.end()) return label != "host";
  return it->second.find(std::string(label)) != it->second.end();
}

v1::SeriesKey ForwardRules::Reduce(const v1::SeriesKey& key, const v1::HostLabels* host) const {
  v1::SeriesKey out;
  out.set_metric(key.metric());
  for (const v1::Label& l : key.labels()) {
    if (Keeps(key.metric(), l.name())) *out.add_labels() = l;
  }
  auto rule = keep_.find(key.metric());
  if (host != nullptr && rule != keep_.end()) {
    for (const std::string& name : rule->second) {
      auto value = host->labels().find(name);
      // Only what a series may carry (the agent's --labels are not checked
      // as strictly as series labels).
      if (value == host->labels().end() || name == "host" ||
          value->second.find('\0') != std::string::npos) {
        continue;
      }
      bool on_point = false;
      for (const v1::Label& l : key.labels()) on_point |= l.name() == name;
      if (on_point) continue;
      v1::Label* added = out.add_labels();
      added->set_name(name);
      added->set_value(value->second);
    }
  }
  CanonicalizeSeriesKey(out);
  return out;
}

}  // namespace andon
