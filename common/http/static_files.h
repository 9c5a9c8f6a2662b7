#pragma once

#include <string>

#include "common/http/message.h"

namespace andon::http {

// Serves the files under one directory (the built web UI): "/" is
// index.html, the content type comes from the extension, and a path that
// would leave the directory is never served. Files are read per request
// (the UI is a few files, and a rebuilt UI shows without a restart).
class StaticFiles {
 public:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  // True when `root` holds an index.html.
  bool HasIndex() const;
  const std::string& root() const { return root_; }
  // Fills `response` and returns true when the request's path names a file
  // under the root; false (response untouched) otherwise.
  bool Serve(const Request& request, Response& response) const;

 private:
  std::string root_;
};

// "text/html; charset=utf-8" for "index.html", ... ("application/octet-stream"
// for an unknown extension).
std::string ContentTypeFor(const std::string& file_name);

}  // namespace andon::http
