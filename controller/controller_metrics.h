#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace andon::controller {

struct FleetCounts;

// The controller's own health metrics, built once from a prometheus-cpp
// registry and passed to the objects that update them. Thread-safe
// (prometheus-cpp metrics are).
class ControllerMetrics {
 public:
  explicit ControllerMetrics(prometheus::Registry& registry);

  void SetFleetCounts(const FleetCounts& counts);
  void StreamOpened() { control_streams_open_.Increment(); }
  void StreamClosed() { control_streams_open_.Decrement(); }
  void CountRegister(const absl::Status& result);
  void CountQuery(const absl::Status& result, absl::Duration latency);
  void CountHttpRequest(int http_status);
  // A walk over the connected hosts after a change of probe configurations
  // that sent new sets to `hosts`, taking `took` to compute them and hand
  // each to its stream.
  void CountProbePush(size_t hosts, absl::Duration took);

 private:
  prometheus::Gauge& hosts_known_;
  prometheus::Gauge& hosts_connected_;
  prometheus::Gauge& aggregators_live_;
  prometheus::Gauge& control_streams_open_;
  prometheus::Family<prometheus::Counter>& register_requests_;
  prometheus::Family<prometheus::Counter>& queries_;
  prometheus::Histogram& query_latency_;
  prometheus::Family<prometheus::Counter>& http_requests_;
  prometheus::Histogram& probe_push_;
  prometheus::Counter& probe_sets_pushed_;
};

}  // namespace andon::controller
