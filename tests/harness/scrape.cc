#include "tests/harness/scrape.h"

#include <httplib.h>

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace andon::testing {

absl::StatusOr<double> ScrapeMetric(const std::string& http_address, const std::string& name) {
  httplib::Client client("http://" + http_address);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET http://", http_address, "/metrics failed"));
  }
  for (absl::string_view line : absl::StrSplit(res->body, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    double v = 0;
    if (kv.first == name && absl::SimpleAtod(kv.second, &v)) return v;
  }
  return absl::NotFoundError(absl::StrCat(name, " is not on http://", http_address, "/metrics"));
}

}  // namespace andon::testing
