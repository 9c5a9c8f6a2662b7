#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "common/http/message.h"

namespace andon::http {

struct ParseLimits {
  size_t max_header_bytes = 64 << 10;  // request line and headers
  size_t max_body_bytes = 1 << 20;
};

struct ParseResult {
  enum State { kNeedMore, kDone, kError };
  State state = kNeedMore;
  // kDone: bytes of `buffer` the request took (the rest is the next one).
  size_t consumed = 0;
  // kNeedMore: the headers are in and ask for "100 Continue" before the body.
  bool expects_continue = false;
  // kError: the status to answer with and a message that says what to fix.
  int status = 0;
  std::string message;
};

// Parses one request from the start of `buffer` (what the connection has
// read and not yet consumed). Stateless: call again with more bytes while it
// answers kNeedMore. Bodies need a Content-Length; a Transfer-Encoding is
// refused (501) rather than misread.
ParseResult ParseRequest(absl::string_view buffer, const ParseLimits& limits, Request* request);

}  // namespace andon::http
