#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/fleet.pb.h"
#include "andon/v1/types.pb.h"

namespace andon {

// What an aggregator keeps of a series when it forwards a closed window to
// its parent: by default every label but `host` (so the root holds
// fleet-wide series whose number depends on label values, not on hosts); a
// rule for a metric names exactly the labels kept (`syscalls:syscall` sums
// comm away too). Immutable after construction; thread-compatible.
class ForwardRules {
 public:
  ForwardRules() = default;
  explicit ForwardRules(const std::vector<v1::ForwardRule>& rules);

  // Parses "metric:label,label;metric:label" (the controller's
  // --forward_rules). INVALID_ARGUMENT names the bad part: an invalid metric
  // or label name, a metric given twice, or a rule without labels.
  static absl::StatusOr<ForwardRules> Parse(absl::string_view text);

  // The rules as sent to aggregators, sorted by metric.
  std::vector<v1::ForwardRule> ToProto() const;

  // True if the parent keeps label `label` of `metric`.
  bool Keeps(absl::string_view metric, absl::string_view label) const;

  // The series as the parent stores it: labels not kept removed, canonical.
  // With `host` (the labels of the host the point came from), a label the
  // metric's rule keeps and the point lacks is taken from the host's labels
  // (`syscalls:role,syscall` keeps role), so the parent can group by it; a
  // label of the point wins over a host label of the same name; `host` and
  // values holding a NUL are never taken. Metrics without a rule take
  // nothing from the host.
  v1::SeriesKey Reduce(const v1::SeriesKey& key, const v1::HostLabels* host = nullptr) const;

 private:
  std::map<std::string, std::set<std::string>, std::less<>> keep_;
};

}  // namespace andon
