#include "common/metric_catalog.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/labels.h"
#include "common/probe_catalog.h"

namespace andon {

MetricCatalog::MetricCatalog() {
  absl::MutexLock lock(&mu_);
  for (const v1::CatalogProbe& probe : BuiltinProbes()) {
    for (const v1::MetricInfo& m : probe.metrics()) {
      metrics_[m.name()] = m;
      builtin_[m.name()] = true;
    }
  }
}

absl::StatusOr<v1::MetricInfo> MetricCatalog::Lookup(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = metrics_.find(name);
  if (it != metrics_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [n, m] : metrics_) names.push_back(n);
  return absl::NotFoundError(
      absl::StrCat("unknown metric '", name, "'; known metrics: ", absl::StrJoin(names, ", ")));
}

std::vector<v1::MetricInfo> MetricCatalog::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::MetricInfo> out;
  for (const auto& [n, m] : metrics_) out.push_back(m);
  return out;
}

bool MetricCatalog::IsBuiltin(absl::string_view name) const { return builtin_.count(name) > 0; }

absl::StatusOr<bool> MetricCatalog::Declare(const v1::MetricInfo& metric) {
  if (!IsValidLabelName(metric.name())) {
    return absl::InvalidArgumentError(
        absl::StrCat("declared metric name '", metric.name(), "' is invalid"));
  }
  if (metric.kind() == v1::METRIC_KIND_UNSPECIFIED || !v1::MetricKind_IsValid(metric.kind())) {
    return absl::InvalidArgumentError(
        absl::StrCat("declared metric '", metric.name(), "' has no kind"));
  }
  bool has_host = false;
  for (const std::string& l : metric.labels()) {
    if (!IsValidLabelName(l)) {
      return absl::InvalidArgumentError(
          absl::StrCat("declared metric '", metric.name(), "' has an invalid label '", l, "'"));
    }
    has_host = has_host || l == "host";
  }
  if (!has_host) {
    return absl::InvalidArgumentError(
        absl::StrCat("declared metric '", metric.name(), "' must have the label 'host'"));
  }
  absl::MutexLock lock(&mu_);
  auto it = metrics_.find(metric.name());
  if (it == metrics_.end()) {
    metrics_[metric.name()] = metric;
    return true;
  }
  if (it->second.kind() != metric.kind()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "metric '", metric.name(), "' is already a ", v1::MetricKind_Name(it->second.kind()),
        " and cannot become a ", v1::MetricKind_Name(metric.kind()),
        "; give the probe configuration another name"));
  }
  if (builtin_.count(metric.name()) > 0) return false;  // built-ins stay as defined
  if (it->second.SerializeAsString() == metric.SerializeAsString()) return false;
  it->second = metric;  // a newer declaration (labels, help) of the same kind
  return true;
}

}  // namespace andon
