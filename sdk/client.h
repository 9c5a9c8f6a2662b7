#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "andon/v1/audit.grpc.pb.h"
#include "andon/v1/events.grpc.pb.h"
#include "andon/v1/fleet.grpc.pb.h"
#include "andon/v1/probes.grpc.pb.h"
#include "andon/v1/query.grpc.pb.h"

namespace andon::sdk {

// A client of one Andon controller over gRPC. Every call has a deadline
// (default 10 s) and returns the controller's error as an absl::Status, with
// the controller's message, so callers can show it as is. Thread-safe.
class Client {
 public:
  // Creates a client for "host:port". Does not connect until the first call.
  static absl::StatusOr<std::unique_ptr<Client>> Create(absl::string_view controller_address);

  void set_timeout(absl::Duration timeout) { timeout_ = timeout; }
  const std::string& address() const { return address_; }

  // Hosts matching an optional selector ("role=db,rack=r1").
  absl::StatusOr<v1::ListHostsResponse> ListHosts(absl::string_view selector = "");
  absl::StatusOr<v1::ListHostsResponse> ListHosts(const v1::ListHostsRequest& request);
  absl::StatusOr<v1::Host> GetHost(absl::string_view host_id);
  absl::StatusOr<v1::Host> SetHostLabels(const v1::SetHostLabelsRequest& request);
  absl::StatusOr<v1::ListAggregatorsResponse> ListAggregators();
  // Drains a leaf aggregator (`drain`) or takes it back; see
  // Fleet.DrainAggregator.
  absl::StatusOr<v1::Aggregator> DrainAggregator(absl::string_view id, bool drain);
  absl::StatusOr<v1::ListMetricsResponse> ListMetrics();
  absl::StatusOr<v1::QueryResponse> Query(const v1::QueryRequest& request);

  // Probe configurations (see proto/andon/v1/probes.proto).
  absl::StatusOr<v1::ListCatalogResponse> ProbeCatalog();
  absl::StatusOr<v1::ProbeConfig> PutProbeConfig(const v1::PutProbeConfigRequest& request);
  absl::StatusOr<v1::DeleteProbeConfigResponse> DeleteProbeConfig(absl::string_view name);
  absl::StatusOr<v1::ListProbeConfigsResponse> ListProbeConfigs();
  absl::StatusOr<v1::ProbeConfigStatus> ProbeStatus(absl::string_view name);

  // One poll of a live tail (see proto/andon/v1/events.proto).
  absl::StatusOr<v1::TailResponse> TailEvents(const v1::TailRequest& request);

  // Changes of probe configurations and labels, newest first (see
  // proto/andon/v1/audit.proto).
  absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& request);

 private:
  Client(std::string address, std::shared_ptr<grpc::Channel> channel);
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Fleet::Stub> fleet_;
  std::unique_ptr<v1::Query::Stub> query_;
  std::unique_ptr<v1::Probes::Stub> probes_;
  std::unique_ptr<v1::Events::Stub> events_;
  std::unique_ptr<v1::Audit::Stub> audit_;
  absl::Duration timeout_ = absl::Seconds(10);
};

// Builds a request for `metric` over the last `range` ending now, grouped by
// `group_by`, as one bucket per `step` (zero: one bucket for the whole range).
v1::QueryRequest MakeRangeQuery(absl::string_view metric, absl::Time now, absl::Duration range,
                                absl::Duration step);

// Adds an equality matcher label=value.
void AddEqualMatcher(v1::QueryRequest& request, absl::string_view label, absl::string_view value);

}  // namespace andon::sdk
