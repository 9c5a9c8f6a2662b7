#include "common/http/router.h"

#include <algorithm>
#include <cstdlib>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"

namespace andon::http {

Router::AsyncHandler Router::Sync(Handler handler) {
  return [handler = std::move(handler)](Request request, Responder responder) {
    Response response;
    handler(request, response);
    responder.Send(std::move(response));
  };
}

void Router::Add(absl::string_view method, absl::string_view pattern, AsyncHandler handler) {
  auto re = std::make_unique<RE2>(std::string(pattern));
  if (!re->ok()) {
    ANDON_LOG(ERROR) << "bad HTTP route pattern '" << pattern << "': " << re->error();
    std::abort();
  }
  routes_.push_back(Route{std::string(method), std::move(re), std::move(handler)});
}

void Router::Dispatch(Request request, Responder responder) const {
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    const int groups = route.pattern->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> captures(groups);
    std::vector<RE2::Arg> args(groups);
    std::vector<RE2::Arg*> arg_ptrs(groups);
    for (int i = 0; i < groups; ++i) {
      args[i] = &captures[i];
      arg_ptrs[i] = &args[i];
    }
    if (!RE2::FullMatchN(request.path, *route.pattern, arg_ptrs.data(), groups)) continue;
    if (route.method != method) {
      allowed.push_back(route.method);
      continue;
    }
    request.matches.assign(1, request.path);
    for (const re2::StringPiece& c : captures) request.matches.emplace_back(c.data(), c.size());
    try {
      route.handler(std::move(request), responder);
    } catch (const std::exception& e) {
      Response response;
      response.status = 500;
      response.body = absl::StrCat("internal error: ", e.what(), "\n");
      responder.Send(std::move(response));
    }
    return;
  }
  if (!allowed.empty()) {
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) {
      allowed.push_back("HEAD");
    }
    Response response;
    response.status = 405;
    response.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    response.body = absl::StrCat("method ", request.method, " is not allowed on ", request.path,
                                 "; use ", absl::StrJoin(allowed, " or "));
    if (format_error_) {
      format_error_(request, response);
    } else {
      response.body += "\n";
    }
    responder.Send(std::move(response));
    return;
  }
  if (fallback_) {
    fallback_(std::move(request), responder);
    return;
  }
  Response response;
  response.status = 404;
  response.body = absl::StrCat("no route ", request.method, " ", request.path, "\n");
  responder.Send(std::move(response));
}

}  // namespace andon::http
