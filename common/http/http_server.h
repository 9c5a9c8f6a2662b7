#pragma once

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/http/event_server.h"
#include "common/http/router.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace andon {

// A daemon's HTTP endpoint: `/metrics` (Prometheus text format of
// `registry`, with the server's own connection and request counts) and
// whatever routes the owner adds to router() before Start().
class HttpServer {
 public:
  explicit HttpServer(std::shared_ptr<prometheus::Registry> registry,
                      http::ServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  http::Router& router() { return router_; }

  // Binds "host:port" (port 0 picks a free one) and starts serving. Fails
  // with a message naming the address when it cannot bind.
  absl::Status Start(absl::string_view address) { return server_.Start(address); }
  int port() const { return server_.port(); }
  void Stop() { server_.Stop(); }
  http::ServerStats stats() const { return server_.stats(); }
  bool WaitForStats(const std::function<bool(const http::ServerStats&)>& done,
                    absl::Duration timeout) const {
    return server_.WaitForStats(done, timeout);
  }

 private:
  struct Exported;
  void Export();

  std::shared_ptr<prometheus::Registry> registry_;
  http::Router router_;
  http::EventServer server_;
  std::unique_ptr<Exported> exported_;
};

}  // namespace andon
