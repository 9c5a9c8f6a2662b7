#include "tests/harness/probe_waits.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace andon::testing {
namespace {

constexpr absl::Duration kPoll = absl::Milliseconds(200);

// Polls `fetch` until it returns a value `done` accepts; on timeout reports
// the last value (or error) with `what`.
template <typename T>
absl::StatusOr<T> Poll(const std::function<absl::StatusOr<T>()>& fetch,
                       const std::function<bool(const T&)>& done, absl::Duration timeout,
                       const std::string& what) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<T> last = absl::UnknownError("never asked");
  while (true) {
    last = fetch();
    if (last.ok() && done(*last)) return last;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(kPoll);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "timed out after ", absl::FormatDuration(timeout), " waiting for ", what,
      "; last answer: ", last.ok() ? last->DebugString() : std::string(last.status().ToString())));
}

}  // namespace

absl::StatusOr<v1::ProbeConfigStatus> WaitForProbeStatus(
    sdk::Client& client, const std::string& name,
    const std::function<bool(const v1::ProbeConfigStatus&)>& done, absl::Duration timeout) {
  return Poll<v1::ProbeConfigStatus>([&] { return client.ProbeStatus(name); }, done, timeout,
                                     absl::StrCat("the status of probe configuration ", name));
}

absl::StatusOr<v1::ProbeConfigStatus> WaitForProbeApplied(sdk::Client& client,
                                                          const std::string& name,
                                                          absl::Duration timeout, uint32_t hosts) {
  return WaitForProbeStatus(
      client, name, [&](const v1::ProbeConfigStatus& s) { return s.hosts_applied() == hosts; },
      timeout);
}

double TotalOf(const v1::QueryResponse& response) {
  double total = 0;
  for (const v1::Series& s : response.series()) total += s.total();
  return total;
}

absl::StatusOr<v1::QueryResponse> WaitForQuery(
    sdk::Client& client, const v1::QueryRequest& request,
    const std::function<bool(const v1::QueryResponse&)>& done, absl::Duration timeout) {
  return Poll<v1::QueryResponse>(
      [&]() -> absl::StatusOr<v1::QueryResponse> {
        // The range moves with the clock: windows that arrive late still count.
        v1::QueryRequest r = sdk::MakeRangeQuery(request.metric(), absl::Now(), absl::Minutes(10),
                                                 absl::ZeroDuration());
        *r.mutable_matchers() = request.matchers();
        *r.mutable_group_by() = request.group_by();
        r.set_limit(request.limit());
        r.set_fn(request.fn());
        return client.Query(r);
      },
      done, timeout, absl::StrCat("query ", request.ShortDebugString()));
}

absl::StatusOr<v1::QueryResponse> WaitForQueryTotal(sdk::Client& client,
                                                    const v1::QueryRequest& request,
                                                    double at_least, absl::Duration timeout) {
  return WaitForQuery(
      client, request, [&](const v1::QueryResponse& r) { return TotalOf(r) >= at_least; }, timeout);
}

absl::StatusOr<v1::Host> WaitForHost(sdk::Client& client, const std::string& host_id,
                                     const std::function<bool(const v1::Host&)>& done,
                                     absl::Duration timeout) {
  return Poll<v1::Host>([&] { return client.GetHost(host_id); }, done, timeout,
                        absl::StrCat("host ", host_id));
}

absl::StatusOr<int> CountBpfLinks(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/fdinfo");
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  int links = 0;
  for (const auto& entry : it) {
    std::ifstream in(entry.path());
    if (!in) continue;  // closed since listed
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find("link_type:") != std::string::npos) ++links;
  }
  return links;
}

}  // namespace andon::testing
