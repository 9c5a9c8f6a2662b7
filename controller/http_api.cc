#include "controller/http_api.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

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

void SendError(const absl::Status& status, http::Response& res) {
  google::protobuf::Struct body;
  (*body.mutable_fields())["error"].set_string_value(std::string(status.message()));
  (*body.mutable_fields())["code"].set_string_value(absl::StatusCodeToString(status.code()));
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(body, &json);
  res.status = HttpStatusFor(status.code());
  res.Set(std::move(json), kJson);
}

void SendMessage(const google::protobuf::Message& message, http::Response& res) {
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
  res.Set(std::move(json), kJson);
}

template <typename T>
void Send(const absl::StatusOr<T>& result, http::Response& res) {
  if (result.ok()) {
    SendMessage(*result, res);
  } else {
    SendError(result.status(), res);
  }
}

// Parses a JSON body into `message`; on failure fills `res` with a 400 that
// names the expected message and shows `example`.
bool ParseBody(const http::Request& req, google::protobuf::Message* message,
               absl::string_view example, http::Response& res) {
  auto parsed = google::protobuf::util::JsonStringToMessage(req.body, message);
  if (parsed.ok()) return true;
  SendError(absl::InvalidArgumentError(
                absl::StrCat("request body is not a ", message->GetDescriptor()->name(), " in JSON",
                             example.empty() ? "" : absl::StrCat(" (e.g. ", example, ")"), ": ",
                             parsed.message().as_string())),
            res);
  return false;
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

void HttpApi::Install(http::Router& router) {
  using http::Request;
  using http::Response;
  router.Get("/healthz", [](const Request&, Response& res) { res.body = "ok\n"; });
  router.Get("/api/v1/hosts", [this](const Request& q, Response& r) { ListHosts(q, r); });
  router.Get("/api/v1/hosts/([^/]+)", [this](const Request& q, Response& r) {
    v1::GetHostRequest request;
    request.set_host_id(q.matches[1]);
    Send(controller::GetHost(*registry_, request), r);
  });
  if (labels_ != nullptr) {
    // Body: {"set": {"role": "db"}, "remove": ["rack"]}.
    router.Post("/api/v1/hosts/([^/]+)/labels", [this](const Request& q, Response& r) {
      v1::SetHostLabelsRequest request;
      if (!ParseBody(q, &request, R"({"set":{"role":"db"},"remove":["rack"]})", r)) return;
      request.set_host_id(q.matches[1]);
      Send(labels_->Set(request, q.remote_addr), r);
    });
  }
  router.Get("/api/v1/aggregators", [this](const Request&, Response& r) {
    SendMessage(controller::ListAggregators(*registry_), r);
  });
  if (drains_ != nullptr) {
    // No body: the verb is in the path.
    router.Post("/api/v1/aggregators/([^/]+)/(drain|undrain)",
                [this](const Request& q, Response& r) {
                  v1::DrainAggregatorRequest request;
                  request.set_id(q.matches[1]);
                  request.set_drain(q.matches[2] == "drain");
                  Send(drains_->Drain(request, q.remote_addr), r);
                });
  }
  router.Get("/api/v1/metrics",
             [this](const Request&, Response& r) { SendMessage(router_->ListMetrics(), r); });
  router.Async("POST", "/api/v1/query",
               [this](Request q, http::Responder responder) { Query(q, std::move(responder)); });
  InstallProbes(router);
  if (tails_ != nullptr) {
    router.Get("/api/v1/events", [this](const Request& q, Response& r) {
      v1::TailRequest request;
      request.set_selector(q.Param("selector"));
      for (absl::string_view t : absl::StrSplit(q.Param("types"), ',', absl::SkipEmpty())) {
        request.add_types(std::string(t));
      }
      uint64_t after = 0, limit = 0;
      if ((q.HasParam("after") && !absl::SimpleAtoi(q.Param("after"), &after)) ||
          (q.HasParam("limit") && !absl::SimpleAtoi(q.Param("limit"), &limit))) {
        SendError(absl::InvalidArgumentError("after and limit must be integers"), r);
        return;
      }
      request.set_after_sequence(after);
      request.set_limit(static_cast<uint32_t>(limit));
      Send(tails_->Tail(request), r);
    });
  }
  if (audit_ != nullptr) {
    router.Get("/api/v1/audit", [this](const Request& q, Response& r) {
      v1::ListAuditRequest request;
      uint32_t limit = 0;
      if (q.HasParam("limit") && !absl::SimpleAtoi(q.Param("limit"), &limit)) {
        SendError(absl::InvalidArgumentError("limit must be a non-negative integer"), r);
        return;
      }
      request.set_limit(limit);
      request.set_object(q.Param("object"));
      Send(audit_->List(request), r);
    });
  }
  InstallUi(router);
}

void HttpApi::InstallProbes(http::Router& router) {
  using http::Request;
  using http::Response;
  router.Get("/api/v1/probes",
             [this](const Request&, Response& r) { SendMessage(probes_->List(), r); });
  router.Get("/api/v1/probes/catalog",
             [this](const Request&, Response& r) { SendMessage(probes_->ListCatalog(), r); });
  router.Post("/api/v1/probes", [this](const Request& q, Response& r) {
    v1::PutProbeConfigRequest request;
    if (!ParseBody(q, &request, "", r)) return;
    Send(probes_->Put(request, q.remote_addr), r);
  });
  router.Get("/api/v1/probes/([a-z_][a-z0-9_]*)/status", [this](const Request& q, Response& r) {
    v1::GetProbeStatusRequest request;
    request.set_name(q.matches[1]);
    Send(probes_->Status(request), r);
  });
  router.Get("/api/v1/probes/([a-z_][a-z0-9_]*)", [this](const Request& q, Response& r) {
    // The list is kept: a range-for over List().configs() would walk a
    // destroyed temporary.
    const v1::ListProbeConfigsResponse list = probes_->List();
    for (const v1::ProbeConfig& c : list.configs()) {
      if (c.name() == q.matches[1]) return SendMessage(c, r);
    }
    SendError(absl::NotFoundError(absl::StrCat("no probe configuration '", q.matches[1],
                                               "'; GET /api/v1/probes lists them")),
              r);
  });
  router.Delete("/api/v1/probes/([a-z_][a-z0-9_]*)", [this](const Request& q, Response& r) {
    v1::DeleteProbeConfigRequest request;
    request.set_name(q.matches[1]);
    uint64_t expected = 0;
    if (q.HasParam("expected_version") &&
        !absl::SimpleAtoi(q.Param("expected_version"), &expected)) {
      SendError(absl::InvalidArgumentError("expected_version must be an integer"), r);
      return;
    }
    request.set_expected_version(expected);
    Send(probes_->Delete(request, q.remote_addr), r);
  });
}

void HttpApi::InstallUi(http::Router& router) {
  // The build tree has a ui/ directory even before the UI is built: look for
  // the page itself.
  const bool has_ui = ui_.HasIndex();
  if (has_ui) {
    ANDON_LOG(INFO) << "serving the web UI from " << ui_.root();
  } else {
    ANDON_LOG(WARNING) << "no web UI at '" << ui_.root()
                       << "' (no index.html); build it with `ninja -C build ui`";
  }
  // A known API path with the wrong method: the API's JSON error, with the
  // router's message and its Allow header.
  router.SetErrorFormatter([](const http::Request& q, http::Response& r) {
    if (!absl::StartsWith(q.path, "/api/")) return;
    const int status = r.status;
    const std::string message = r.body;
    SendError(absl::UnimplementedError(message), r);
    r.status = status;
  });
  // Whatever no route serves: the API's own JSON 404, a UI file, or a page
  // that says how to build the UI.
  router.SetFallback([this, has_ui](http::Request q, http::Responder responder) {
    http::Response r;
    if (absl::StartsWith(q.path, "/api/")) {
      SendError(absl::NotFoundError(absl::StrCat("no API route ", q.method, " ", q.path)), r);
    } else if (has_ui && ui_.Serve(q, r)) {
      // served
    } else if (!has_ui && q.path == "/") {
      r.body = kNoUi;
    } else {
      r.status = 404;
      r.body = absl::StrCat("not found: ", q.path, "\n");
    }
    responder.Send(std::move(r));
  });
}

// GET /api/v1/hosts?selector=&name=&state=up|stale|down&order_by=&page_size=
// &page_token=&count_by_label=
void HttpApi::ListHosts(const http::Request& req, http::Response& res) {
  v1::ListHostsRequest request;
  request.set_selector(req.Param("selector"));
  request.set_name_contains(req.Param("name"));
  request.set_order_by(req.Param("order_by"));
  request.set_page_token(req.Param("page_token"));
  request.set_count_by_label(req.Param("count_by_label"));
  if (const std::string state = req.Param("state"); !state.empty()) {
    v1::HostState parsed = v1::HOST_STATE_UNSPECIFIED;
    if (!v1::HostState_Parse("HOST_" + absl::AsciiStrToUpper(state), &parsed)) {
      return SendError(absl::InvalidArgumentError(absl::StrCat(
                           "state '", state, "' is not a host state; use up, stale or down")),
                       res);
    }
    request.set_state(parsed);
  }
  if (const std::string size = req.Param("page_size"); !size.empty()) {
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

// POST /api/v1/query: answered from the router's callback when the fan-out
// is done; the HTTP server's threads are free meanwhile.
void HttpApi::Query(const http::Request& req, http::Responder responder) {
  v1::QueryRequest request;
  http::Response bad;
  if (!ParseBody(req, &request, "", bad)) return responder.Send(std::move(bad));
  // The answer comes on a gRPC callback thread, which the control streams
  // share: it is encoded as JSON on the HTTP server's threads.
  router_->QueryAsync(request, [responder](absl::StatusOr<v1::QueryResponse> result) {
    auto shared = std::make_shared<const absl::StatusOr<v1::QueryResponse>>(std::move(result));
    responder.SendFrom([shared] {
      http::Response res;
      Send(*shared, res);
      return res;
    });
  });
}

}  // namespace andon::controller
