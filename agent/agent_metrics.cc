#include "agent/agent_metrics.h"

#include "common/prometheus_metrics.h"

namespace andon::agent {
AgentMetrics::AgentMetrics(prometheus::Registry& r)
    : windows_flushed(NewCounter(r, "andon_agent_windows_flushed_total",
                                 "Windows closed and handed to the ingest queue.")),
      points_flushed(
          NewCounter(r, "andon_agent_points_flushed_total", "Points produced by closed windows.")),
      points_sent(NewCounter(r, "andon_agent_points_sent_total",
                             "Points written to the aggregator stream.")),
      batches_sent(NewCounter(r, "andon_agent_batches_sent_total",
                              "Ingest batches written to the aggregator stream.")),
      batches_dropped(NewCounter(r, "andon_agent_batches_dropped_total",
                                 "Ingest batches discarded because the queue was full.")),
      batches_rejected(NewCounter(
          r, "andon_agent_batches_rejected_total",
          "Batches given up after the aggregator rejected a stream as invalid (counts the "
          "invalid batch and any already-applied batches written before it).")),
      bytes_sent(NewCounter(r, "andon_agent_bytes_sent_total",
                            "Serialized bytes of ingest batches written.")),
      ingest_queue_batches(prometheus::BuildGauge()
                               .Name("andon_agent_ingest_queue_batches")
                               .Help("Ingest batches waiting to be sent.")
                               .Register(r)
                               .Add({})),
      ingest_reconnects(NewCounter(r, "andon_agent_ingest_reconnects_total",
                                   "Ingest streams that failed and were reopened.")),
      control_reconnects(NewCounter(r, "andon_agent_control_reconnects_total",
                                    "Control streams that broke and were re-established.")),
      probe_events(prometheus::BuildCounter()
                       .Name("andon_agent_probe_events_total")
                       .Help("Events observed by each probe.")
                       .Register(r)),
      probe_drops(prometheus::BuildCounter()
                      .Name("andon_agent_probe_drops_total")
                      .Help("Events each probe lost (kernel map or ring buffer full).")
                      .Register(r)),
      cpu_seconds(prometheus::BuildGauge()
                      .Name("andon_agent_cpu_seconds")
                      .Help("User and system CPU the agent process used since it started.")
                      .Register(r)
                      .Add({})),
      resident_bytes(prometheus::BuildGauge()
                         .Name("andon_agent_resident_bytes")
                         .Help("Resident memory of the agent process.")
                         .Register(r)
                         .Add({})),
      probes_attached(prometheus::BuildGauge()
                          .Name("andon_agent_probes_attached")
                          .Help("Probes of the host's probe set that are attached.")
                          .Register(r)
                          .Add({})),
      probes_failed(prometheus::BuildGauge()
                        .Name("andon_agent_probes_failed")
                        .Help("Probes of the host's probe set that failed (see heartbeats).")
                        .Register(r)
                        .Add({})) {}

}  // namespace andon::agent
