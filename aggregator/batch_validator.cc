#include "aggregator/batch_validator.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/labels.h"
#include "common/metric_catalog.h"
#include "common/series_key.h"
#include "common/status_macros.h"

namespace andon::aggregator {
namespace {

v1::Value::KindCase ValueKindOf(v1::MetricKind kind) {
  switch (kind) {
    case v1::COUNTER:
      return v1::Value::kCounter;
    case v1::GAUGE:
      return v1::Value::kGauge;
    case v1::DISTRIBUTION:
      return v1::Value::kDistribution;
    case v1::TOP_K:
      return v1::Value::kTopK;
    default:
      return v1::Value::KIND_NOT_SET;
  }
}

const char* ValueKindName(v1::Value::KindCase kind) {
  switch (kind) {
    case v1::Value::kCounter:
      return "counter";
    case v1::Value::kGauge:
      return "gauge";
    case v1::Value::kDistribution:
      return "distribution";
    case v1::Value::kTopK:
      return "top_k";
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return "none";
}

// Whether a label name appears twice; without a set for the few labels a
// series has.
bool HasDuplicateName(const google::protobuf::RepeatedPtrField<v1::Label>& labels) {
  if (labels.size() > 16) {
    absl::flat_hash_set<absl::string_view> seen;
    for (const v1::Label& l : labels) {
      if (!seen.insert(l.name()).second) return true;
    }
    return false;
  }
  for (int i = 1; i < labels.size(); ++i) {
    for (int j = 0; j < i; ++j) {
      if (labels[i].name() == labels[j].name()) return true;
    }
  }
  return false;
}

absl::Status CheckLabels(const v1::Point& point, const v1::MetricInfo& metric) {
  if (HasDuplicateName(point.series().labels())) {
    for (int i = 1; i < point.series().labels_size(); ++i) {
      for (int j = 0; j < i; ++j) {
        if (point.series().labels(i).name() == point.series().labels(j).name()) {
          return absl::InvalidArgumentError(
              absl::StrCat("label '", point.series().labels(i).name(), "' appears twice"));
        }
      }
    }
  }
  for (const v1::Label& label : point.series().labels()) {
    if (!IsValidLabelName(label.name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label name '", label.name(), "' is invalid (must match [a-zA-Z_][a-zA-Z0-9_]*)"));
    }
    bool declared = false;
    for (const std::string& name : metric.labels()) declared |= (name == label.name());
    for (const std::string& name : metric.host_labels()) declared |= (name == label.name());
    if (!declared) {
      return absl::InvalidArgumentError(
          absl::StrCat("label '", label.name(), "' is not declared for metric '", metric.name(),
                       "' (declared: ", absl::StrJoin(metric.labels(), ", "), ")"));
    }
    if (label.value().find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("the value of label '", label.name(), "' holds a NUL byte"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckWindow(const v1::Point& point, int64_t max_start_ns) {
  const int64_t window = point.window_ns();
  if (window <= 0 || window > kMaxWindowNs || kMaxWindowNs % window != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "window_ns ", window,
        " is not a window the store keeps: it must divide 10s evenly (e.g. 100ms, 1s, 2s, 5s, "
        "10s), so that each window rolls up into exactly one 10s, 1m and 1h window"));
  }
  if (point.window_start_ns() % window != 0) {
    return absl::InvalidArgumentError(absl::StrCat("window_start_ns ", point.window_start_ns(),
                                                   " is not aligned to window_ns ", window));
  }
  if (point.window_start_ns() > max_start_ns) {
    return absl::InvalidArgumentError(absl::StrCat(
        "window starts at ", absl::FormatTime(absl::FromUnixNanos(point.window_start_ns())),
        ", more than ", absl::FormatDuration(kMaxFutureSkew),
        " in the future; check the sender's clock"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BatchValidator::Validate(const v1::IngestBatch& batch) const {
  if (batch.sender_id().empty()) {
    return absl::InvalidArgumentError("ingest batch has no sender_id");
  }
  const std::string where =
      absl::StrCat("batch from '", batch.sender_id(), "' sequence ", batch.sequence());
  if (batch.sequence() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": sequence must start at 1 and increase"));
  }
  if (batch.points_size() > kMaxPointsPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", batch.points_size(),
                                                   " points, more than the limit of ",
                                                   kMaxPointsPerBatch, "; split the batch"));
  }
  // host_labels are not checked: they never refuse a batch (an agent's
  // --labels may hold what a series may not); forwarding takes only those a
  // series may carry (ForwardRules::Reduce).
  absl::StatusOr<std::vector<v1::MetricInfo>> declared = CheckDeclarations(batch);
  if (!declared.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", declared.status().message()));
  }
  const int64_t max_start_ns = absl::ToUnixNanos(clock_->Now() + kMaxFutureSkew);
  // Each metric looked up once a batch (a host's window holds a few metrics
  // and hundreds of points): a declaration in the batch wins over the
  // catalog, a metric in neither is reported at its first point.
  absl::flat_hash_map<absl::string_view, absl::StatusOr<v1::MetricInfo>> metrics;
  for (int i = 0; i < batch.points_size(); ++i) {
    const std::string& name = batch.points(i).series().metric();
    auto [it, inserted] = metrics.try_emplace(name, absl::UnknownError(""));
    if (inserted) {
      it->second = catalog_->Lookup(name);
      for (const v1::MetricInfo& d : *declared) {
        if (d.name() == name) it->second = d;
      }
    }
    absl::Status s = ValidatePoint(batch.points(i), max_start_ns, it->second);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": point ", i, " (",
                                                     SeriesKeyToString(batch.points(i).series()),
                                                     "): ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::MetricInfo>> BatchValidator::CheckDeclarations(
    const v1::IngestBatch& batch) const {
  std::vector<v1::MetricInfo> out;
  for (const v1::MetricInfo& m : batch.metrics()) {
    if (m.host_labels_size() > 0 && batch.sender_kind() != v1::AGGREGATOR) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric '", m.name(), "' declares host_labels, which only aggregators forward"));
    }
    // A scratch catalog checks the declaration's form without touching ours.
    MetricCatalog scratch;
    absl::StatusOr<v1::MetricInfo> known = catalog_->Lookup(m.name());
    if (known.ok()) ANDON_RETURN_IF_ERROR(scratch.Declare(*known).status());
    v1::MetricInfo descriptor = m;
    descriptor.clear_host_labels();
    ANDON_RETURN_IF_ERROR(scratch.Declare(descriptor).status());
    out.push_back(*scratch.Lookup(m.name()));
    // Labels a forwarding rule took from hosts hold for this batch only.
    for (const std::string& name : m.host_labels()) {
      if (!IsValidLabelName(name) || name == "host") {
        return absl::InvalidArgumentError(
            absl::StrCat("metric '", m.name(), "' declares an invalid host label '", name, "'"));
      }
      out.back().add_host_labels(name);
    }
  }
  return out;
}

std::vector<v1::MetricInfo> BatchValidator::Learn(const v1::IngestBatch& batch) const {
  std::vector<v1::MetricInfo> changed;
  for (v1::MetricInfo m : batch.metrics()) {
    m.clear_host_labels();  // the batch's, not the metric's
    absl::StatusOr<bool> c = catalog_->Declare(m);
    if (c.ok() && *c) changed.push_back(*catalog_->Lookup(m.name()));
  }
  return changed;
}

absl::Status BatchValidator::ValidatePoint(const v1::Point& point, int64_t max_start_ns,
                                           const absl::StatusOr<v1::MetricInfo>& found) const {
  if (!found.ok()) return found.status();
  const v1::MetricInfo& metric = *found;
  const v1::Value::KindCase want = ValueKindOf(metric.kind());
  if (point.value().kind_case() == v1::Value::KIND_NOT_SET) {
    return absl::InvalidArgumentError(absl::StrCat("point has no value (metric '", metric.name(),
                                                   "' takes a ", ValueKindName(want), ")"));
  }
  if (point.value().kind_case() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is a ", ValueKindName(point.value().kind_case()), " but metric '",
                     metric.name(), "' is a ", ValueKindName(want)));
  }
  ANDON_RETURN_IF_ERROR(CheckLabels(point, metric));
  return CheckWindow(point, max_start_ns);
}

}  // namespace andon::aggregator
