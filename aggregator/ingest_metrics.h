#pragma once

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace andon::aggregator {

// The ingest path's own health, exported on /metrics. Built once from the
// daemon's registry and passed to IngestService. prometheus-cpp metrics are
// thread-safe; the registry must outlive this struct.
struct IngestMetrics {
  prometheus::Gauge& streams_open;
  prometheus::Gauge& series_numbered;
  prometheus::Counter& batches_received;
  prometheus::Counter& batches_duplicate;
  prometheus::Counter& batches_rejected;
  prometheus::Counter& points_received;
  prometheus::Counter& bytes_received;
  prometheus::Counter& store_errors;
  prometheus::Counter& points_collided;
  prometheus::Counter& points_late;
  prometheus::Counter& series_forgotten;
  prometheus::Counter& senders_forgotten;
  prometheus::Gauge& open_windows;
  prometheus::Gauge& logged_batches;
  prometheus::Gauge& rollup_lag_seconds;

  static IngestMetrics Create(prometheus::Registry& registry);
};

}  // namespace andon::aggregator
