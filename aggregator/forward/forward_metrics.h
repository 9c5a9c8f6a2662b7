#pragma once

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace andon::aggregator {

// The forwarder's health on /metrics: what it reduced and sent up, what
// came late, what it had to drop. The registry must outlive this struct.
struct ForwardMetrics {
  prometheus::Counter& points_in;        // stored points handed to the reducer
  prometheus::Counter& points_out;       // reduced points put in the outbox
  prometheus::Counter& late_points;      // points for windows already handed on
  prometheus::Counter& dropped_points;   // points the reducer had no room for
  prometheus::Counter& batches_acked;    // outbox batches the parent acknowledged
  prometheus::Counter& batches_dropped;  // outbox batches dropped (full, or refused)
  prometheus::Counter& send_errors;      // streams to the parent that failed
  prometheus::Gauge& outbox_batches;     // batches waiting for the parent
  prometheus::Gauge& pending_points;     // reduced points of windows still open

  static ForwardMetrics Create(prometheus::Registry& registry);
};

}  // namespace andon::aggregator
