#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/http/message.h"
#include "common/http/responder.h"
#include "re2/re2.h"

namespace andon::http {

// Routes a request by method and path. A pattern is an RE2 expression that
// must match the whole decoded path; its groups land in Request::matches.
// Handlers are either synchronous (quick: fill the response and return) or
// asynchronous (keep the Responder and answer later without holding a
// thread). A path that matches a route but not its method gets 405 with
// Allow; HEAD is served by the GET route without the body. Set up before the
// server starts; Dispatch is thread-safe after that.
class Router {
 public:
  using Handler = std::function<void(const Request&, Response&)>;
  using AsyncHandler = std::function<void(Request, Responder)>;

  void Get(absl::string_view pattern, Handler handler) { Add("GET", pattern, Sync(handler)); }
  void Post(absl::string_view pattern, Handler handler) { Add("POST", pattern, Sync(handler)); }
  void Delete(absl::string_view pattern, Handler handler) { Add("DELETE", pattern, Sync(handler)); }
  void Async(absl::string_view method, absl::string_view pattern, AsyncHandler handler) {
    Add(method, pattern, std::move(handler));
  }
  // Serves whatever no route matches (by default: 404).
  void SetFallback(AsyncHandler handler) { fallback_ = std::move(handler); }
  // Rewrites the router's own 405 answers (e.g. into an API's error format);
  // the response comes with its status, Allow header and a plain message.
  using ErrorFormatter = std::function<void(const Request&, Response&)>;
  void SetErrorFormatter(ErrorFormatter formatter) { format_error_ = std::move(formatter); }

  void Dispatch(Request request, Responder responder) const;

 private:
  struct Route {
    std::string method;
    std::unique_ptr<RE2> pattern;
    AsyncHandler handler;
  };
  static AsyncHandler Sync(Handler handler);
  void Add(absl::string_view method, absl::string_view pattern, AsyncHandler handler);

  std::vector<Route> routes_;
  AsyncHandler fallback_;
  ErrorFormatter format_error_;
};

}  // namespace andon::http
