#include "common/http/request_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace andon::http {
namespace {

ParseResult Error(int status, std::string message) {
  ParseResult r;
  r.state = ParseResult::kError;
  r.status = status;
  r.message = std::move(message);
  return r;
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Splits "path?query" into a decoded path and decoded parameters.
bool ParseTarget(absl::string_view target, Request* request) {
  size_t q = target.find('?');
  absl::string_view path = target.substr(0, q);
  if (path.empty() || path[0] != '/') return false;
  if (!PercentDecode(path, /*plus_is_space=*/false, &request->path)) return false;
  request->params.clear();
  if (q == absl::string_view::npos) return true;
  absl::string_view query = target.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != absl::string_view::npos) query = query.substr(0, hash);
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, &name)) return false;
    if (eq != absl::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value)) {
      return false;
    }
    request->params.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

}  // namespace

ParseResult ParseRequest(absl::string_view buffer, const ParseLimits& limits, Request* request) {
  // Browsers and proxies may send a stray CRLF between requests; they count
  // toward the header limit like any other byte.
  size_t start = 0;
  while (start + 1 < buffer.size() && buffer[start] == '\r' && buffer[start + 1] == '\n') {
    start += 2;
  }
  size_t header_end = buffer.find("\r\n\r\n", start);
  if (header_end == absl::string_view::npos) {
    if (buffer.size() > limits.max_header_bytes) {
      return Error(431, absl::StrCat("request line and headers exceed ", limits.max_header_bytes,
                                     " bytes; send a shorter URL or fewer headers"));
    }
    return ParseResult{};
  }
  if (header_end > limits.max_header_bytes) {
    return Error(431, absl::StrCat("request line and headers exceed ", limits.max_header_bytes,
                                   " bytes; send a shorter URL or fewer headers"));
  }
  absl::string_view head = buffer.substr(start, header_end - start);
  // A bare CR or LF, or a NUL, inside the head would let a proxy in front
  // and this server see different requests in the same bytes.
  for (size_t i = 0; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '\0' || (c == '\n' && (i == 0 || head[i - 1] != '\r')) ||
        (c == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n'))) {
      return Error(400, "request line or headers hold a bare CR, LF or NUL; end lines with CRLF");
    }
  }
  size_t line_end = head.find("\r\n");
  absl::string_view line = head.substr(0, line_end);
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !IsToken(parts[0])) {
    return Error(400, "malformed request line; expected 'METHOD /path HTTP/1.1'");
  }
  if (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0") {
    return Error(505, absl::StrCat("protocol '", parts[2], "' is not HTTP/1.0 or HTTP/1.1"));
  }
  request->method = std::string(parts[0]);
  if (!ParseTarget(parts[1], request)) {
    return Error(400,
                 "malformed request target; expected an absolute path such as "
                 "/api/v1/hosts?state=up, with valid %XX escapes");
  }
  const bool http10 = parts[2] == "HTTP/1.0";
  request->keep_alive = !http10;
  request->expects_continue = false;
  request->headers.clear();
  bool has_length = false;
  uint64_t length = 0;
  absl::string_view rest =
      line_end == absl::string_view::npos ? absl::string_view() : head.substr(line_end + 2);
  for (absl::string_view header : absl::StrSplit(rest, "\r\n", absl::SkipEmpty())) {
    size_t colon = header.find(':');
    if (colon == absl::string_view::npos || !IsToken(header.substr(0, colon))) {
      return Error(400, absl::StrCat("malformed header line '", header.substr(0, 80),
                                     "'; expected 'Name: value'"));
    }
    std::string name = absl::AsciiStrToLower(header.substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(header.substr(colon + 1)));
    if (name == "content-length") {
      uint64_t n = 0;
      const bool digits = !value.empty() && value.size() <= 19 &&
                          value.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || !absl::SimpleAtoi(value, &n) || (has_length && n != length)) {
        return Error(400, absl::StrCat("bad Content-Length '", value, "'"));
      }
      has_length = true;
      length = n;
    } else if (name == "transfer-encoding") {
      return Error(501,
                   "Transfer-Encoding (chunked bodies) is not supported; send the body "
                   "with a Content-Length");
    } else if (name == "connection") {
      for (absl::string_view token : absl::StrSplit(value, ',')) {
        token = absl::StripAsciiWhitespace(token);
        if (absl::EqualsIgnoreCase(token, "close")) request->keep_alive = false;
        if (absl::EqualsIgnoreCase(token, "keep-alive")) request->keep_alive = true;
      }
    } else if (name == "expect") {
      if (!absl::EqualsIgnoreCase(value, "100-continue")) {
        return Error(417, absl::StrCat("unsupported Expect '", value, "'; only 100-continue is"));
      }
      request->expects_continue = !http10;
    }
    request->headers.emplace_back(std::move(name), std::move(value));
  }
  if (length > limits.max_body_bytes) {
    return Error(413, absl::StrCat("request body of ", length, " bytes exceeds the limit of ",
                                   limits.max_body_bytes, " bytes"));
  }
  const size_t body_start = header_end + 4;
  if (buffer.size() - body_start < length) {
    ParseResult more;
    more.expects_continue = request->expects_continue;
    return more;
  }
  request->body = std::string(buffer.substr(body_start, length));
  ParseResult done;
  done.state = ParseResult::kDone;
  done.consumed = body_start + length;
  return done;
}

}  // namespace andon::http
