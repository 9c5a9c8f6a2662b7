#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace andon::http {

// One HTTP/1.1 request as the server hands it to a handler: the path is
// percent-decoded and split from its query, header names are lower-case.
struct Request {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;   // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
  std::string remote_addr;
  // Set by the router: [0] is the whole path, [1..] the pattern's groups.
  std::vector<std::string> matches;
  bool keep_alive = true;
  bool expects_continue = false;

  // The first header of that (lower-case) name, or nullptr.
  const std::string* Header(absl::string_view name) const;
  bool HasParam(absl::string_view name) const;
  // The first value of query parameter `name`, or "".
  std::string Param(absl::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  void Set(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
};

// "OK", "Not Found", ... ("Unknown" for a code it does not know).
absl::string_view StatusText(int status);

// The bytes on the wire. `head_only` leaves the body out (a HEAD request)
// but keeps its Content-Length.
std::string SerializeResponse(const Response& response, bool keep_alive, bool head_only);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); false for
// a malformed escape or an encoded NUL.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace andon::http
