#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "prometheus/registry.h"

namespace andon {

// An HTTP server on its own threads that serves `/metrics` (Prometheus text
// format of `registry`) and whatever routes the owner adds through server()
// before Start(). Stop() (or the destructor) stops it and joins.
class HttpServer {
 public:
  explicit HttpServer(std::shared_ptr<prometheus::Registry> registry);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  httplib::Server& server() { return server_; }

  // Binds "host:port" (port 0 picks a free one) and starts serving. Fails
  // with a message naming the address when it cannot bind.
  absl::Status Start(absl::string_view address);
  int port() const { return port_; }
  void Stop();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// Splits "host:port"; fails with a message that shows the expected form.
absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port);

}  // namespace andon
