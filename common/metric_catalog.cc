#include "common/metric_catalog.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace andon {
namespace {

v1::MetricInfo Make(absl::string_view name, v1::MetricKind kind,
                    std::initializer_list<const char*> labels, absl::string_view help) {
  v1::MetricInfo m;
  m.set_name(std::string(name));
  m.set_kind(kind);
  for (const char* l : labels) m.add_labels(l);
  m.set_help(std::string(help));
  return m;
}

}  // namespace

const std::vector<v1::MetricInfo>& KnownMetrics() {
  static const auto* metrics = new std::vector<v1::MetricInfo>{
      Make("syscalls", v1::COUNTER, {"host", "comm", "syscall"},
           "System calls entered, by process name and system call."),
      Make("execs", v1::COUNTER, {"host", "comm"},
           "Programs started with execve, by the new program's name."),
  };
  return *metrics;
}

absl::StatusOr<v1::MetricInfo> LookupMetric(absl::string_view name) {
  std::vector<std::string> names;
  for (const auto& m : KnownMetrics()) {
    if (m.name() == name) return m;
    names.push_back(m.name());
  }
  return absl::NotFoundError(
      absl::StrCat("unknown metric '", name, "'; known metrics: ", absl::StrJoin(names, ", ")));
}

}  // namespace andon
