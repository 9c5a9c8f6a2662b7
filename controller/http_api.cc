#include "controller/http_api.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/log.h"
#include "controller/fleet_api.h"

namespace andon::controller {
namespace {

constexpr char kJson[] = "application/json";

void SendError(const absl::Status& status, httplib::Response& res) {
  google::protobuf::Struct body;
  (*body.mutable_fields())["error"].set_string_value(std::string(status.message()));
  (*body.mutable_fields())["code"].set_string_value(absl::StatusCodeToString(status.code()));
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(body, &json);
  res.status = HttpStatusFor(status.code());
  res.set_content(json, kJson);
}

void SendMessage(const google::protobuf::Message& message, httplib::Response& res) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  auto s = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!s.ok()) {
    SendError(absl::InternalError(absl::StrCat("cannot encode JSON: ", s.message().as_string())),
              res);
    return;
  }
  res.status = 200;
  res.set_content(json, kJson);
}

template <typename T>
void Send(const absl::StatusOr<T>& result, httplib::Response& res) {
  if (result.ok()) {
    SendMessage(*result, res);
  } else {
    SendError(result.status(), res);
  }
}

constexpr char kNoUi[] =
    "The Andon web UI was not built, so there is nothing to show here.\n"
    "Build it with `ninja -C build ui` (or point --ui_dir at a built UI), then reload.\n"
    "The JSON API is under /api/v1/ (hosts, aggregators, metrics, query) and metrics under "
    "/metrics.\n";

}  // namespace

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 422;  // a query too broad to answer, as Prometheus answers it
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

void HttpApi::Install(httplib::Server& server) {
  using httplib::Request;
  using httplib::Response;
  server.Get("/healthz",
             [](const Request&, Response& res) { res.set_content("ok\n", "text/plain"); });
  server.Get("/api/v1/hosts", [this](const Request& q, Response& r) { ListHosts(q, r); });
  server.Get(R"(/api/v1/hosts/([^/]+))", [this](const Request& q, Response& r) { GetHost(q, r); });
  if (labels_ != nullptr) {
    // Body: {"set": {"role": "db"}, "remove": ["rack"]}.
    server.Post(R"(/api/v1/hosts/([^/]+)/labels)", [this](const Request& q, Response& r) {
      v1::SetHostLabelsRequest request;
      auto parsed = google::protobuf::util::JsonStringToMessage(q.body, &request);
      if (!parsed.ok()) {
        SendError(absl::InvalidArgumentError(
                      absl::StrCat("request body is not a SetHostLabelsRequest in JSON (e.g. "
                                   "{\"set\":{\"role\":\"db\"},\"remove\":[\"rack\"]}): ",
                                   parsed.message().as_string())),
                  r);
        return;
      }
      request.set_host_id(q.matches[1]);
      Send(labels_->Set(request, q.remote_addr), r);
    });
  }
  server.Get("/api/v1/aggregators",
             [this](const Request& q, Response& r) { ListAggregators(q, r); });
  if (drains_ != nullptr) {
    // No body: the verb is in the path.
    server.Post(R"(/api/v1/aggregators/([^/]+)/(drain|undrain))",
                [this](const Request& q, Response& r) {
                  v1::DrainAggregatorRequest request;
                  request.set_id(q.matches[1]);
                  request.set_drain(q.matches[2] == "drain");
                  Send(drains_->Drain(request, q.remote_addr), r);
                });
  }
  server.Get("/api/v1/metrics", [this](const Request& q, Response& r) { ListMetrics(q, r); });
  server.Post("/api/v1/query", [this](const Request& q, Response& r) { Query(q, r); });
  InstallProbes(server);
  if (tails_ != nullptr) {
    server.Get("/api/v1/events", [this](const Request& q, Response& r) {
      v1::TailRequest request;
      request.set_selector(q.get_param_value("selector"));
      for (absl::string_view t :
           absl::StrSplit(q.get_param_value("types"), ',', absl::SkipEmpty())) {
        request.add_types(std::string(t));
      }
      uint64_t after = 0, limit = 0;
      if ((q.has_param("after") && !absl::SimpleAtoi(q.get_param_value("after"), &after)) ||
          (q.has_param("limit") && !absl::SimpleAtoi(q.get_param_value("limit"), &limit))) {
        SendError(absl::InvalidArgumentError("after and limit must be integers"), r);
        return;
      }
      request.set_after_sequence(after);
      request.set_limit(static_cast<uint32_t>(limit));
      Send(tails_->Tail(request), r);
    });
  }
  if (audit_ != nullptr) {
    server.Get("/api/v1/audit", [this](const Request& q, Response& r) {
      v1::ListAuditRequest request;
      uint32_t limit = 0;
      if (q.has_param("limit") && !absl::SimpleAtoi(q.get_param_value("limit"), &limit)) {
        SendError(absl::InvalidArgumentError("limit must be a non-negative integer"), r);
        return;
      }
      request.set_limit(limit);
      request.set_object(q.get_param_value("object"));
      Send(audit_->List(request), r);
    });
  }
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req,
                                                                   Response& res) {
    if (!res.body.empty() || !absl::StartsWith(req.path, "/api/")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    SendError(absl::NotFoundError(absl::StrCat("no API route ", req.method, " ", req.path)), res);
    return httplib::Server::HandlerResponse::Handled;
  }));
  ControllerMetrics* metrics = metrics_;
  server.set_logger(
      [metrics](const Request&, const Response& res) { metrics->CountHttpRequest(res.status); });
  InstallUi(server);
}

void HttpApi::InstallProbes(httplib::Server& server) {
  using httplib::Request;
  using httplib::Response;
  server.Get("/api/v1/probes",
             [this](const Request&, Response& r) { SendMessage(probes_->List(), r); });
  server.Get("/api/v1/probes/catalog",
             [this](const Request&, Response& r) { SendMessage(probes_->ListCatalog(), r); });
  server.Post("/api/v1/probes", [this](const Request& q, Response& r) {
    v1::PutProbeConfigRequest request;
    auto parsed = google::protobuf::util::JsonStringToMessage(q.body, &request);
    if (!parsed.ok()) {
      SendError(absl::InvalidArgumentError(
                    absl::StrCat("request body is not a PutProbeConfigRequest in JSON: ",
                                 parsed.message().as_string())),
                r);
      return;
    }
    Send(probes_->Put(request, q.remote_addr), r);
  });
  server.Get(R"(/api/v1/probes/([a-z_][a-z0-9_]*)/status)", [this](const Request& q, Response& r) {
    v1::GetProbeStatusRequest request;
    request.set_name(q.matches[1]);
    Send(probes_->Status(request), r);
  });
  server.Get(R"(/api/v1/probes/([a-z_][a-z0-9_]*))", [this](const Request& q, Response& r) {
    // The list is kept: a range-for over List().configs() would walk a
    // destroyed temporary.
    const v1::ListProbeConfigsResponse list = probes_->List();
    for (const v1::ProbeConfig& c : list.configs()) {
      if (c.name() == q.matches[1].str()) return SendMessage(c, r);
    }
    SendError(absl::NotFoundError(absl::StrCat("no probe configuration '", q.matches[1].str(),
                                               "'; GET /api/v1/probes lists them")),
              r);
  });
  server.Delete(R"(/api/v1/probes/([a-z_][a-z0-9_]*))", [this](const Request& q, Response& r) {
    v1::DeleteProbeConfigRequest request;
    request.set_name(q.matches[1]);
    uint64_t expected = 0;
    if (q.has_param("expected_version") &&
        !absl::SimpleAtoi(q.get_param_value("expected_version"), &expected)) {
      SendError(absl::InvalidArgumentError("expected_version must be an integer"), r);
      return;
    }
    request.set_expected_version(expected);
    Send(probes_->Delete(request, q.remote_addr), r);
  });
}

void HttpApi::InstallUi(httplib::Server& server) {
  std::error_code ec;
  // The build tree has a ui/ directory even before the UI is built: look for
  // the page itself.
  if (std::filesystem::is_regular_file(std::filesystem::path(ui_dir_) / "index.html", ec) &&
      server.set_mount_point("/", ui_dir_)) {
    ANDON_LOG(INFO) << "serving the web UI from " << ui_dir_;
    return;
  }
  ANDON_LOG(WARNING) << "no web UI at '" << ui_dir_
                     << "' (no index.html); build it with `ninja -C build ui`";
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kNoUi, "text/plain; charset=utf-8");
  });
}

// GET /api/v1/hosts?selector=&name=&state=up|stale|down&order_by=&page_size=
// &page_token=&count_by_label=
void HttpApi::ListHosts(const httplib::Request& req, httplib::Response& res) {
  v1::ListHostsRequest request;
  request.set_selector(req.get_param_value("selector"));
  request.set_name_contains(req.get_param_value("name"));
  request.set_order_by(req.get_param_value("order_by"));
  request.set_page_token(req.get_param_value("page_token"));
  request.set_count_by_label(req.get_param_value("count_by_label"));
  if (const std::string state = req.get_param_value("state"); !state.empty()) {
    v1::HostState parsed = v1::HOST_STATE_UNSPECIFIED;
    if (!v1::HostState_Parse("HOST_" + absl::AsciiStrToUpper(state), &parsed)) {
      return SendError(absl::InvalidArgumentError(absl::StrCat(
                           "state '", state, "' is not a host state; use up, stale or down")),
                       res);
    }
    request.set_state(parsed);
  }
  if (const std::string size = req.get_param_value("page_size"); !size.empty()) {
    uint32_t n = 0;
    if (!absl::SimpleAtoi(size, &n)) {
      return SendError(absl::InvalidArgumentError(
                           absl::StrCat("page_size '", size, "' is not a number of hosts")),
                       res);
    }
    request.set_page_size(n);
  }
  Send(controller::ListHosts(*registry_, request), res);
}

void HttpApi::GetHost(const httplib::Request& req, httplib::Response& res) {
  v1::GetHostRequest request;
  request.set_host_id(req.matches[1]);
  Send(controller::GetHost(*registry_, request), res);
}

void HttpApi::ListAggregators(const httplib::Request&, httplib::Response& res) {
  SendMessage(controller::ListAggregators(*registry_), res);
}

void HttpApi::ListMetrics(const httplib::Request&, httplib::Response& res) {
  SendMessage(router_->ListMetrics(), res);
}

void HttpApi::Query(const httplib::Request& req, httplib::Response& res) {
  v1::QueryRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(req.body, &request);
  if (!parsed.ok()) {
    SendError(absl::InvalidArgumentError(absl::StrCat(
                  "request body is not a QueryRequest in JSON: ", parsed.message().as_string())),
              res);
    return;
  }
  Send(router_->Query(request), res);
}

}  // namespace andon::controller
