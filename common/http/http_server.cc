#include "common/http/http_server.h"

#include "common/prometheus_metrics.h"
#include "prometheus/text_serializer.h"

namespace andon {

// Counters that mirror the server's totals at each scrape.
struct HttpServer::Exported {
  explicit Exported(prometheus::Registry& r)
      : accepted(
            NewCounter(r, "andon_http_connections_accepted_total", "HTTP connections accepted.")),
        refused(NewCounter(r, "andon_http_connections_refused_total",
                           "HTTP connections answered 503 and closed: over the connection limit.")),
        open(NewGauge(r, "andon_http_connections_open", "HTTP connections open now.")),
        requests(NewCounter(r, "andon_http_requests_received_total", "HTTP requests received.")),
        busy(NewCounter(r, "andon_http_requests_refused_busy_total",
                        "HTTP requests answered 503: every worker busy and the queue full.")),
        malformed(NewCounter(r, "andon_http_requests_malformed_total",
                             "HTTP requests refused as malformed or over a size limit.")),
        timeouts(NewCounter(r, "andon_http_timeouts_total",
                            "HTTP connections cut off for sending or reading too slowly.")),
        accept_errors(NewCounter(r, "andon_http_accept_errors_total",
                                 "Failed accepts (out of descriptors or memory).")) {}

  absl::Mutex mu;
  http::ServerStats last ABSL_GUARDED_BY(mu);
  prometheus::Counter& accepted;
  prometheus::Counter& refused;
  prometheus::Gauge& open;
  prometheus::Counter& requests;
  prometheus::Counter& busy;
  prometheus::Counter& malformed;
  prometheus::Counter& timeouts;
  prometheus::Counter& accept_errors;
};

HttpServer::HttpServer(std::shared_ptr<prometheus::Registry> registry, http::ServerOptions options)
    : registry_(std::move(registry)),
      server_(&router_, std::move(options)),
      exported_(std::make_unique<Exported>(*registry_)) {
  router_.Get("/metrics", [this](const http::Request&, http::Response& res) {
    Export();
    prometheus::TextSerializer serializer;
    res.Set(serializer.Serialize(registry_->Collect()), "text/plain; version=0.0.4; charset=utf-8");
  });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Export() {
  const http::ServerStats now = server_.stats();
  Exported& e = *exported_;
  absl::MutexLock lock(&e.mu);
  auto add = [](prometheus::Counter& c, uint64_t then, uint64_t now) {
    if (now > then) c.Increment(static_cast<double>(now - then));
  };
  add(e.accepted, e.last.connections_accepted, now.connections_accepted);
  add(e.refused, e.last.connections_refused, now.connections_refused);
  add(e.requests, e.last.requests, now.requests);
  add(e.busy, e.last.requests_refused_busy, now.requests_refused_busy);
  add(e.malformed, e.last.requests_malformed, now.requests_malformed);
  add(e.timeouts, e.last.timeouts, now.timeouts);
  add(e.accept_errors, e.last.accept_errors, now.accept_errors);
  e.open.Set(static_cast<double>(now.connections_open));
  e.last = now;
}

}  // namespace andon
