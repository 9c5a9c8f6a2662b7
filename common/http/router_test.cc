#include "common/http/router.h"

#include <optional>

#include "gtest/gtest.h"

namespace andon::http {
namespace {

// Dispatches and returns what the responder got.
Response DispatchTo(const Router& router, const std::string& method, const std::string& path) {
  Request request;
  request.method = method;
  request.path = path;
  std::optional<Response> got;
  router.Dispatch(request, Responder([&](Response r) { got = std::move(r); }));
  EXPECT_TRUE(got.has_value());
  return got.value_or(Response{});
}

TEST(RouterTest, RoutesByMethodAndWholePathWithCaptures) {
  Router router;
  router.Get("/hosts/([^/]+)",
             [](const Request& q, Response& r) { r.body = "get " + q.matches[1]; });
  router.Post("/hosts/([^/]+)",
              [](const Request& q, Response& r) { r.body = "post " + q.matches[1]; });
  EXPECT_EQ(DispatchTo(router, "GET", "/hosts/db-1").body, "get db-1");
  EXPECT_EQ(DispatchTo(router, "POST", "/hosts/db-1").body, "post db-1");
  EXPECT_EQ(DispatchTo(router, "HEAD", "/hosts/db-1").body, "get db-1");
  EXPECT_EQ(DispatchTo(router, "GET", "/hosts/db-1/x").status, 404);  // whole path only
}

TEST(RouterTest, AnswersMethodNotAllowedWithAllow) {
  Router router;
  router.Get("/a", [](const Request&, Response&) {});
  Response r = DispatchTo(router, "DELETE", "/a");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, HEAD");
  router.SetErrorFormatter([](const Request&, Response& r) { r.body = "{" + r.body + "}"; });
  EXPECT_EQ(DispatchTo(router, "POST", "/a").body,
            "{method POST is not allowed on /a; use GET or HEAD}");
}

TEST(RouterTest, FallbackServesWhatNoRouteMatches) {
  Router router;
  router.SetFallback([](Request q, Responder responder) {
    Response r;
    r.body = "fallback " + q.path;
    responder.Send(std::move(r));
  });
  EXPECT_EQ(DispatchTo(router, "GET", "/nothing").body, "fallback /nothing");
}

TEST(RouterTest, AnAsyncHandlerThatDropsItsResponderAnswers500) {
  Router router;
  router.Async("GET", "/lost", [](Request, Responder) {});
  Response r = DispatchTo(router, "GET", "/lost");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("without an answer"), std::string::npos);
}

TEST(RouterTest, OnlyTheFirstSendCounts) {
  int delivered = 0;
  Responder responder([&](Response) { ++delivered; });
  Responder copy = responder;
  responder.Send(Response{});
  copy.Send(Response{});
  EXPECT_EQ(delivered, 1);
}

TEST(RouterTest, SendFromMakesTheAnswerOnTheExecutor) {
  std::vector<std::function<void()>> queued;
  std::optional<Response> got;
  Responder responder([&](Response r) { got = std::move(r); },
                      [&](std::function<void()> work) { queued.push_back(std::move(work)); });
  responder.SendFrom([] {
    Response r;
    r.body = "made";
    return r;
  });
  EXPECT_FALSE(got.has_value()) << "made before the executor ran it";
  ASSERT_EQ(queued.size(), 1u);
  queued[0]();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, "made");
}

}  // namespace
}  // namespace andon::http
