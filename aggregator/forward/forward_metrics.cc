#include "aggregator/forward/forward_metrics.h"

#include "common/prometheus_metrics.h"

namespace andon::aggregator {
ForwardMetrics ForwardMetrics::Create(prometheus::Registry& registry) {
  return ForwardMetrics{
      .points_in = NewCounter(registry, "andon_aggregator_forward_points_in_total",
                              "Stored points handed to the forwarder's reducer."),
      .points_out = NewCounter(registry, "andon_aggregator_forward_points_out_total",
                               "Reduced points queued for the parent."),
      .late_points = NewCounter(registry, "andon_aggregator_forward_late_points_total",
                                "Points for windows already forwarded; sent as amendments."),
      .dropped_points = NewCounter(registry, "andon_aggregator_forward_dropped_points_total",
                                   "Points not forwarded: the reducer was full."),
      .batches_acked = NewCounter(registry, "andon_aggregator_forward_batches_acked_total",
                                  "Forwarded batches the parent acknowledged."),
      .batches_dropped =
          NewCounter(registry, "andon_aggregator_forward_batches_dropped_total",
                     "Forwarded batches given up: the outbox was full or the parent refused."),
      .send_errors = NewCounter(registry, "andon_aggregator_forward_send_errors_total",
                                "Streams to the parent that failed."),
      .outbox_batches = NewGauge(registry, "andon_aggregator_forward_outbox_batches",
                                 "Forwarded batches waiting for the parent's ack."),
      .pending_points = NewGauge(registry, "andon_aggregator_forward_pending_points",
                                 "Reduced points waiting to go up: windows not yet closed, and "
                                 "late points until the next tick."),
  };
}

}  // namespace andon::aggregator
