#include "common/http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace andon::http {

std::string ContentTypeFor(const std::string& file_name) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".map", "application/json"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (absl::EndsWith(file_name, ext)) return type;
  }
  return "application/octet-stream";
}

bool StaticFiles::HasIndex() const {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(root_) / "index.html", ec);
}

bool StaticFiles::Serve(const Request& request, Response& response) const {
  if (request.method != "GET" && request.method != "HEAD") return false;
  std::string relative = request.path == "/" ? "index.html" : request.path.substr(1);
  for (absl::string_view segment : absl::StrSplit(relative, '/')) {
    if (segment.empty() || segment == "." || segment == "..") return false;
  }
  const std::filesystem::path file = std::filesystem::path(root_) / relative;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return false;
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream content;
  content << in.rdbuf();
  response.status = 200;
  response.Set(content.str(), ContentTypeFor(relative));
  response.headers.emplace_back("Cache-Control", "no-cache");
  return true;
}

}  // namespace andon::http
