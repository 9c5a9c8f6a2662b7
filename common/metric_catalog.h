#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/types.pb.h"

namespace andon {

// The metrics one process knows, with their kinds, labels and units: the
// built-in probes' metrics (fixed, from common/probe_catalog) plus those that
// generic probes declare at run time (learned from the controller's
// configurations or from the descriptors agents send with their batches).
// One instance per process, passed to whoever needs it; thread-safe.
class MetricCatalog {
 public:
  // A catalog holding the built-in metrics.
  MetricCatalog();

  // The metric's description, or NOT_FOUND naming the known metrics.
  absl::StatusOr<v1::MetricInfo> Lookup(absl::string_view name) const;
  // Every known metric, sorted by name.
  std::vector<v1::MetricInfo> List() const;

  // Learns a declared metric. A new name is added; a known one must agree in
  // kind (FAILED_PRECONDITION otherwise: its stored data has the old kind),
  // and a built-in may not be redeclared with other labels. Returns true if
  // the catalog changed (so the caller may persist it). INVALID_ARGUMENT for
  // a bad name, no kind, or labels without "host".
  absl::StatusOr<bool> Declare(const v1::MetricInfo& metric);

  // True if `name` is a built-in metric.
  bool IsBuiltin(absl::string_view name) const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, v1::MetricInfo, std::less<>> metrics_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool, std::less<>> builtin_;  // immutable after construction
};

}  // namespace andon
