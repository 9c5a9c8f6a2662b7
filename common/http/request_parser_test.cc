#include "common/http/request_parser.h"

#include "gtest/gtest.h"

namespace andon::http {
namespace {

TEST(RequestParserTest, ParsesARequestWithDecodedPathParamsAndBody) {
  const std::string wire =
      "POST /api/v1/hosts/db%2D1/labels?state=up&name=a+b%26c&flag HTTP/1.1\r\n"
      "Host: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n"
      "{}{}NEXT";
  Request request;
  ParseResult r = ParseRequest(wire, {}, &request);
  ASSERT_EQ(r.state, ParseResult::kDone) << r.message;
  EXPECT_EQ(r.consumed, wire.size() - 4);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/api/v1/hosts/db-1/labels");
  EXPECT_EQ(request.Param("state"), "up");
  EXPECT_EQ(request.Param("name"), "a b&c");
  EXPECT_TRUE(request.HasParam("flag"));
  EXPECT_FALSE(request.HasParam("other"));
  EXPECT_EQ(request.body, "{}{}");
  ASSERT_NE(request.Header("content-type"), nullptr);
  EXPECT_EQ(*request.Header("content-type"), "application/json");
  EXPECT_TRUE(request.keep_alive);
}

TEST(RequestParserTest, AsksForMoreUntilHeadersAndBodyAreIn) {
  const std::string wire = "POST /q HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    Request request;
    EXPECT_EQ(ParseRequest(wire.substr(0, cut), {}, &request).state, ParseResult::kNeedMore)
        << "cut at " << cut;
  }
  Request request;
  EXPECT_EQ(ParseRequest(wire, {}, &request).state, ParseResult::kDone);
}

TEST(RequestParserTest, KeepAliveFollowsVersionAndConnectionHeader) {
  Request request;
  ASSERT_EQ(ParseRequest("GET / HTTP/1.0\r\n\r\n", {}, &request).state, ParseResult::kDone);
  EXPECT_FALSE(request.keep_alive);
  ASSERT_EQ(ParseRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", {}, &request).state,
            ParseResult::kDone);
  EXPECT_TRUE(request.keep_alive);
  ASSERT_EQ(ParseRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", {}, &request).state,
            ParseResult::kDone);
  EXPECT_FALSE(request.keep_alive);
}

TEST(RequestParserTest, ReportsExpectContinueBeforeTheBody) {
  Request request;
  ParseResult r = ParseRequest(
      "POST /q HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", {}, &request);
  EXPECT_EQ(r.state, ParseResult::kNeedMore);
  EXPECT_TRUE(r.expects_continue);
}

struct BadCase {
  std::string wire;
  int status;
  std::string says;
};

TEST(RequestParserTest, RefusesMalformedInputWithAStatusAndAMessage) {
  const std::vector<BadCase> cases = {
      {"GARBAGE\r\n\r\n", 400, "request line"},
      {"GET /x HTTP/2.0\r\n\r\n", 505, "HTTP/2.0"},
      {"GET x HTTP/1.1\r\n\r\n", 400, "absolute path"},
      {"GET /a%zz HTTP/1.1\r\n\r\n", 400, "%XX"},
      {"GET /a%00 HTTP/1.1\r\n\r\n", 400, "%XX"},
      {"GET /a HTTP/1.1\r\nno colon here\r\n\r\n", 400, "Name: value"},
      {"POST /a HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "Content-Length"},
      {"POST /a HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", 400, "Content-Length"},
      {"POST /a HTTP/1.1\r\nX-Pad: a\nContent-Length: 5\r\n\r\nhello", 400, "bare CR"},
      {"GET /a HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "bare CR"},
      {"POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "Content-Length"},
      {"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Content-Length"},
      {"POST /a HTTP/1.1\r\nExpect: magic\r\n\r\n", 417, "100-continue"},
      {"POST /a HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 413, "1000"},
  };
  ParseLimits limits;
  limits.max_body_bytes = 1000;
  for (const BadCase& c : cases) {
    Request request;
    ParseResult r = ParseRequest(c.wire, limits, &request);
    EXPECT_EQ(r.state, ParseResult::kError) << c.wire;
    EXPECT_EQ(r.status, c.status) << c.wire;
    EXPECT_NE(r.message.find(c.says), std::string::npos) << c.wire << " -> " << r.message;
  }
}

TEST(RequestParserTest, RefusesHeadersOverTheLimitEvenBeforeTheyEnd) {
  ParseLimits limits;
  limits.max_header_bytes = 100;
  Request request;
  std::string wire = "GET /" + std::string(200, 'a');
  ParseResult r = ParseRequest(wire, limits, &request);
  EXPECT_EQ(r.state, ParseResult::kError);
  EXPECT_EQ(r.status, 431);
}

TEST(RequestParserTest, StrayLineBreaksCountTowardTheHeaderLimit) {
  ParseLimits limits;
  limits.max_header_bytes = 100;
  Request request;
  std::string crlfs;
  for (int i = 0; i < 100; ++i) crlfs += "\r\n";
  ParseResult r = ParseRequest(crlfs, limits, &request);
  EXPECT_EQ(r.state, ParseResult::kError);
  EXPECT_EQ(r.status, 431);
}

TEST(RequestParserTest, SkipsStrayLineBreaksBetweenRequests) {
  Request request;
  const std::string wire = "\r\nGET /x HTTP/1.1\r\n\r\n";
  ParseResult r = ParseRequest(wire, {}, &request);
  ASSERT_EQ(r.state, ParseResult::kDone);
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(request.path, "/x");
}

}  // namespace
}  // namespace andon::http
