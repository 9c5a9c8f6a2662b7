#include "aggregator/ingest_metrics.h"

#include "common/prometheus_metrics.h"

namespace andon::aggregator {
IngestMetrics IngestMetrics::Create(prometheus::Registry& registry) {
  return IngestMetrics{
      .streams_open = prometheus::BuildGauge()
                          .Name("andon_aggregator_ingest_streams_open")
                          .Help("Ingest Push streams open now.")
                          .Register(registry)
                          .Add({}),
      .series_numbered =
          NewGauge(registry, "andon_aggregator_ingest_series_numbered",
                   "Series held in the open ingest streams' dictionaries (about 450 bytes each)."),
      .batches_received = NewCounter(registry, "andon_aggregator_ingest_batches_received_total",
                                     "Ingest batches read from streams, valid or not."),
      .batches_duplicate =
          NewCounter(registry, "andon_aggregator_ingest_batches_duplicate_total",
                     "Ingest batches whose sequence was already applied; not applied again."),
      .batches_rejected = NewCounter(registry, "andon_aggregator_ingest_batches_rejected_total",
                                     "Ingest batches refused as invalid; nothing of them stored."),
      .points_received = NewCounter(registry, "andon_aggregator_ingest_points_received_total",
                                    "Points in ingest batches read from streams."),
      .bytes_received = NewCounter(registry, "andon_aggregator_ingest_bytes_received_total",
                                   "Serialized size of ingest batches read from streams."),
      .store_errors = NewCounter(registry, "andon_aggregator_store_errors_total",
                                 "Ingest batches the series store failed to write."),
      .points_collided = NewCounter(
          registry, "andon_aggregator_store_points_collided_total",
          "Points left out because their series' 64-bit id belongs to another stored series."),
      .points_late =
          NewCounter(registry, "andon_aggregator_store_points_late_total",
                     "Points that came after their 10 s window was written: merged into the stored "
                     "windows (never counted twice)."),
      .series_forgotten = NewCounter(
          registry, "andon_aggregator_store_series_forgotten_total",
          "Series forgotten (key and index entries deleted) because all their data expired."),
      .senders_forgotten = NewCounter(
          registry, "andon_aggregator_store_senders_forgotten_total",
          "Senders forgotten (sequence and host labels deleted) because all their data expired."),
      .open_windows = NewGauge(registry, "andon_aggregator_store_open_windows",
                               "Series x 10 s windows held in memory until they are rolled up."),
      .logged_batches = NewGauge(registry, "andon_aggregator_store_logged_batches",
                                 "Batches kept in the store's log until their windows roll up."),
      .rollup_lag_seconds = NewGauge(
          registry, "andon_aggregator_store_rollup_lag_seconds",
          "How far behind now the roll-up into 10 s, 1 min and 1 h windows is (about 10-15 s "
          "when healthy)."),
  };
}

}  // namespace andon::aggregator
