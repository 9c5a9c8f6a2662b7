#include "controller/controller_metrics.h"

#include <string>

#include "absl/strings/ascii.h"
#include "controller/registry.h"
#include "prometheus/histogram.h"

namespace andon::controller {
namespace {

prometheus::Gauge& MakeGauge(prometheus::Registry& r, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Family<prometheus::Counter>& MakeCounters(prometheus::Registry& r,
                                                      const std::string& name,
                                                      const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

// "already_exists" for ALREADY_EXISTS: short, stable label values.
std::string ResultLabel(const absl::Status& s) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(s.code()));
}

}  // namespace

ControllerMetrics::ControllerMetrics(prometheus::Registry& registry)
    : hosts_known_(MakeGauge(registry, "andon_controller_hosts_known",
                             "Hosts in the registry (live or not).")),
      hosts_connected_(MakeGauge(registry, "andon_controller_hosts_connected",
                                 "Hosts whose control stream is open.")),
      aggregators_live_(MakeGauge(registry, "andon_controller_aggregators_live",
                                  "Aggregators seen within 3 heartbeat intervals.")),
      control_streams_open_(MakeGauge(registry, "andon_controller_control_streams_open",
                                      "AgentControl.Control streams open now.")),
      register_requests_(MakeCounters(registry, "andon_controller_register_requests_total",
                                      "AgentControl.Register calls, by result.")),
      queries_(MakeCounters(registry, "andon_controller_queries_total",
                            "Queries routed (gRPC and JSON API), by result.")),
      query_latency_(
          prometheus::BuildHistogram()
              .Name("andon_controller_query_latency_seconds")
              .Help("Time to answer a routed query.")
              .Register(registry)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      http_requests_(MakeCounters(registry, "andon_controller_http_requests_total",
                                  "HTTP requests served, by status code.")),
      probe_push_(
          prometheus::BuildHistogram()
              .Name("andon_controller_probe_push_seconds")
              .Help("Time from the start of a walk after a change of probe "
                    "configurations to every changed set handed to its host's "
                    "control stream, per walk that sent any.")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25, 0.5, 1, 2.5, 5, 10})),
      probe_sets_pushed_(MakeCounters(registry, "andon_controller_probe_sets_pushed_total",
                                      "Probe sets sent to agents after changes of probe "
                                      "configurations or host labels.")
                             .Add({})) {}

void ControllerMetrics::CountProbePush(size_t hosts, absl::Duration took) {
  probe_push_.Observe(absl::ToDoubleSeconds(took));
  probe_sets_pushed_.Increment(static_cast<double>(hosts));
}

void ControllerMetrics::SetFleetCounts(const FleetCounts& counts) {
  hosts_known_.Set(static_cast<double>(counts.hosts_known));
  hosts_connected_.Set(static_cast<double>(counts.hosts_connected));
  aggregators_live_.Set(static_cast<double>(counts.aggregators_live));
}

void ControllerMetrics::CountRegister(const absl::Status& result) {
  register_requests_.Add({{"result", ResultLabel(result)}}).Increment();
}

void ControllerMetrics::CountQuery(const absl::Status& result, absl::Duration latency) {
  queries_.Add({{"result", ResultLabel(result)}}).Increment();
  query_latency_.Observe(absl::ToDoubleSeconds(latency));
}

void ControllerMetrics::CountHttpRequest(int http_status) {
  http_requests_.Add({{"code", std::to_string(http_status)}}).Increment();
}

}  // namespace andon::controller
