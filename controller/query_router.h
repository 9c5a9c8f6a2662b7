#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "andon/v1/query.grpc.pb.h"
#include "common/clock.h"
#include "common/forward_rules.h"
#include "common/metric_catalog.h"
#include "controller/controller_metrics.h"
#include "controller/registry.h"

namespace andon::controller {

// Answers queries by forwarding them to aggregators: a query with an EQ
// matcher on `host` goes to that host's aggregators only (when they are
// live); a query naming a label that forwarding drops goes to every live
// leaf; any other query goes to the top of the tree (Registry::TreeTops:
// the root, or its children while it is down). Several targets are asked in
// parallel, each with
// the call deadline, and their typed answers are merged before the query's
// function is applied (see query_merge.h). Validates first, so a bad query is
// refused with the same message even when no aggregator is up. This is the
// controller's gRPC *client* side; it serves both the gRPC Query service and
// the JSON API. Thread-safe; channels are cached per address.
class QueryRouter {
 public:
  using Done = std::function<void(absl::StatusOr<v1::QueryResponse>)>;

  // `registry`, `clock` and `metrics` must outlive the router.
  QueryRouter(const Registry* registry, const MetricCatalog* catalog, const Clock* clock,
              ControllerMetrics* metrics, absl::Duration call_deadline = absl::Seconds(10));

  // Validates and forwards; `done` runs exactly once, on the caller's thread
  // (for errors found before forwarding) or on a gRPC callback thread.
  // UNAVAILABLE when no aggregator is live or none of them answers; when
  // some answer, the merged answer is flagged partial and lists the others
  // in `missing`.
  void QueryAsync(const v1::QueryRequest& request, Done done);
  // Blocking form of QueryAsync.
  absl::StatusOr<v1::QueryResponse> Query(const v1::QueryRequest& request);

  // The metric catalog.
  v1::ListMetricsResponse ListMetrics() const;

 private:
  std::vector<v1::AggregatorRef> Targets(const v1::QueryRequest& request) const;
  std::shared_ptr<v1::Query::Stub> StubFor(const std::string& address);

  const Registry* const registry_;
  const MetricCatalog* const catalog_;
  const Clock* const clock_;
  ControllerMetrics* const metrics_;
  const absl::Duration call_deadline_;
  const ForwardRules forward_rules_;

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<v1::Query::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::controller
