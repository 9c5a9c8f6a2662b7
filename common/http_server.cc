#include "common/http_server.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace andon {

absl::Status SplitHostPort(absl::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "' is not of the form host:port (e.g. 127.0.0.1:7401)"));
  }
  *host = std::string(address.substr(0, colon));
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

HttpServer::HttpServer(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)) {
  // httplib sets SO_REUSEPORT by default, so a second daemon on the same port
  // would start and silently share its traffic; with SO_REUSEADDR only, the
  // second bind fails with a clear error.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    prometheus::TextSerializer serializer;
    res.set_content(serializer.Serialize(registry_->Collect()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start(absl::string_view address) {
  std::string host;
  int port = 0;
  absl::Status s = SplitHostPort(address, &host, &port);
  if (!s.ok()) return s;
  if (port == 0) {
    port_ = server_.bind_to_any_port(host);
  } else {
    port_ = server_.bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", address, ": address in use or not local"));
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

}  // namespace andon
