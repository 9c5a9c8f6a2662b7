#pragma once

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace andon::agent {

// The agent's own health metrics, served on /metrics. Built once from the
// daemon's registry and passed by reference to the parts that update them.
// Thread-safe (prometheus-cpp metrics are).
struct AgentMetrics {
  explicit AgentMetrics(prometheus::Registry& registry);

  prometheus::Counter& windows_flushed;
  prometheus::Counter& points_flushed;
  prometheus::Counter& points_sent;
  prometheus::Counter& batches_sent;
  prometheus::Counter& batches_dropped;
  prometheus::Counter& batches_rejected;
  prometheus::Counter& bytes_sent;
  prometheus::Gauge& ingest_queue_batches;
  prometheus::Counter& ingest_reconnects;
  prometheus::Counter& control_reconnects;
  prometheus::Family<prometheus::Counter>& probe_events;  // label probe
  prometheus::Family<prometheus::Counter>& probe_drops;   // label probe
  prometheus::Gauge& cpu_seconds;                         // the agent's own user+system CPU
  prometheus::Gauge& resident_bytes;                      // and resident memory
  prometheus::Gauge& probes_attached;
  prometheus::Gauge& probes_failed;
};

}  // namespace andon::agent
