#pragma once

#include <string>

#include "common/http/router.h"
#include "common/http/static_files.h"
#include "controller/audit/audit_log.h"
#include "controller/controller_metrics.h"
#include "controller/events/event_tails.h"
#include "controller/fleet_api.h"
#include "controller/host_labels_api.h"
#include "controller/probes/probe_api.h"
#include "controller/query_router.h"
#include "controller/registry.h"

namespace andon::controller {

// The controller's HTTP surface beside /metrics: the JSON API (protobuf JSON
// mapping of the gRPC messages, served by the same domain objects and router
// as gRPC, never a loopback call), /healthz, and the web UI's static files.
// Errors are {"error": "<message>", "code": "<CODE>"} with HTTP 400
// (INVALID_ARGUMENT), 403 (PERMISSION_DENIED), 404 (NOT_FOUND), 409
// (ALREADY_EXISTS, FAILED_PRECONDITION: a stale version), 503
// (UNAVAILABLE) or 500. Thread-safe once installed (handlers run on the HTTP
// server's work pool; state lives in the thread-safe objects below). A query
// is answered asynchronously: no thread waits while it fans out.
class HttpApi {
 public:
  // All pointers must outlive the server the API is installed on. `ui_dir`
  // is the built UI; when it has no index.html, GET / explains how to build it.
  HttpApi(Registry* registry, QueryRouter* router, ProbeApi* probes, ControllerMetrics* metrics,
          std::string ui_dir)
      : registry_(registry),
        router_(router),
        probes_(probes),
        metrics_(metrics),
        ui_(std::move(ui_dir)) {}

  // Serves /api/v1/events from `tails` (optional; call before Install).
  void set_event_tails(EventTails* tails) { tails_ = tails; }
  // Serves POST /api/v1/hosts/ID/labels (optional; call before Install).
  void set_host_labels(HostLabelsApi* labels) { labels_ = labels; }
  // Serves GET /api/v1/audit?limit=N&object=NAME (optional; call before
  // Install).
  void set_audit_log(const AuditLog* audit) { audit_ = audit; }
  // Serves POST /api/v1/aggregators/ID/drain and /undrain (optional; call
  // before Install).
  void set_aggregator_drains(AggregatorDrainApi* drains) { drains_ = drains; }

  // Adds the routes; call before the server starts.
  void Install(http::Router& router);

 private:
  void ListHosts(const http::Request& req, http::Response& res);
  void Query(const http::Request& req, http::Responder responder);
  void InstallProbes(http::Router& router);
  void InstallUi(http::Router& router);

  Registry* const registry_;
  QueryRouter* const router_;
  ProbeApi* const probes_;
  EventTails* tails_ = nullptr;
  HostLabelsApi* labels_ = nullptr;
  AggregatorDrainApi* drains_ = nullptr;
  const AuditLog* audit_ = nullptr;
  ControllerMetrics* const metrics_;
  const http::StaticFiles ui_;
};

// The HTTP status for a Status code, per the JSON API's contract.
int HttpStatusFor(absl::StatusCode code);

}  // namespace andon::controller
