#include "controller/host_listing.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/label_matcher.h"
#include "common/probe_spec.h"
#include "common/proto_time.h"

namespace andon::controller {
namespace {

const char* StateName(v1::HostState s) {
  switch (s) {
    case v1::HOST_UP:
      return "up";
    case v1::HOST_STALE:
      return "stale";
    case v1::HOST_DOWN:
      return "down";
    default:
      return "unknown";
  }
}

// What the page is sorted by, kept per matching host without copying it.
struct Match {
  v1::HostState state;
  std::string id, aggregator;
  int64_t last_seen_ns;
};

}  // namespace

absl::StatusOr<v1::ListHostsResponse> ListHostsPage(const Registry& registry,
                                                    const v1::ListHostsRequest& request) {
  absl::StatusOr<v1::TargetSelector> selector = ParseSelector(request.selector());
  if (!selector.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad selector '", request.selector(), "': ", selector.status().message()));
  }
  std::vector<LabelMatcher> matchers;
  for (const v1::LabelMatcher& m : selector->matchers()) {
    absl::StatusOr<LabelMatcher> compiled = LabelMatcher::Compile(m);
    if (!compiled.ok()) return compiled.status();
    matchers.push_back(*std::move(compiled));
  }
  if (!v1::HostState_IsValid(request.state())) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown host state ", request.state(), "; use up, stale or down"));
  }
  const std::string& order = request.order_by();
  if (!order.empty() && order != "id" && order != "last_seen" && order != "aggregator") {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot order hosts by '", order, "'; use id, last_seen or aggregator"));
  }
  uint64_t offset = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &offset)) {
    return absl::InvalidArgumentError(absl::StrCat("page token '", request.page_token(),
                                                   "' is not one this controller gave; start over "
                                                   "without it"));
  }
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultHostPage : std::min(request.page_size(), kMaxHostPage);

  v1::ListHostsResponse out;
  v1::HostCounts* counts = out.mutable_counts();
  std::vector<Match> matches;
  v1::SeriesKey key;  // the host's labels plus host=<id>, for the matchers
  registry.VisitHosts([&](const v1::Host& h, v1::HostState state) {
    if (request.state() != v1::HOST_STATE_UNSPECIFIED && state != request.state()) return;
    if (!request.name_contains().empty() &&
        !absl::StrContains(h.info().host_id(), request.name_contains()) &&
        !absl::StrContains(h.info().hostname(), request.name_contains())) {
      return;
    }
    if (!matchers.empty()) {
      key.clear_labels();
      for (const auto& [name, value] : h.info().labels()) {
        v1::Label* l = key.add_labels();
        l->set_name(name);
        l->set_value(value);
      }
      v1::Label* l = key.add_labels();
      l->set_name("host");
      l->set_value(h.info().host_id());
      for (const LabelMatcher& m : matchers) {
        if (!m.Matches(key)) return;
      }
    }
    counts->set_total(counts->total() + 1);
    ++(*counts->mutable_by_state())[StateName(state)];
    ++(*counts->mutable_by_aggregator())[h.aggregator_id()];
    if (!request.count_by_label().empty()) {
      auto v = h.info().labels().find(request.count_by_label());
      ++(*counts->mutable_by_label_value())[v == h.info().labels().end() ? "" : v->second];
    }
    matches.push_back(Match{state, h.info().host_id(), h.aggregator_id(),
                            absl::ToUnixNanos(FromProtoTime(h.last_seen()))});
  });
  // Hosts come in id order; other orders keep it among equals.
  if (order == "last_seen") {
    std::stable_sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) {
      return a.last_seen_ns > b.last_seen_ns;
    });
  } else if (order == "aggregator") {
    std::stable_sort(matches.begin(), matches.end(),
                     [](const Match& a, const Match& b) { return a.aggregator < b.aggregator; });
  }
  const uint64_t end = std::min<uint64_t>(matches.size(), offset + page_size);
  std::vector<std::string> page_ids;
  for (uint64_t i = offset; i < end; ++i) page_ids.push_back(matches[i].id);
  // The visit's references are gone: copy the page's hosts by id.
  for (const std::string& id : page_ids) {
    absl::StatusOr<v1::Host> h = registry.GetHost(id);
    if (h.ok()) *out.add_hosts() = *std::move(h);  // forgotten meanwhile: skipped
  }
  if (end < matches.size()) out.set_next_page_token(absl::StrCat(end));
  return out;
}

}  // namespace andon::controller
