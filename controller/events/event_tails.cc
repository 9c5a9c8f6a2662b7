#include "controller/events/event_tails.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/probe_spec.h"
#include "common/status_macros.h"

namespace andon::controller {
namespace {

constexpr absl::Duration kDefaultKeep = absl::Seconds(30);
constexpr absl::Duration kMaxKeep = absl::Minutes(10);
// Agents are told again once the tail's end moved this much past what they
// were told, so a reader polling every second does not push every second.
constexpr absl::Duration kRepushSlack = absl::Seconds(10);
constexpr uint32_t kDefaultLimit = 1000;

}  // namespace

absl::StatusOr<v1::TailResponse> EventTails::Tail(const v1::TailRequest& request) {
  v1::TargetSelector target = request.target();
  if (!request.selector().empty()) {
    ANDON_ASSIGN_OR_RETURN(target, ParseSelector(request.selector()));
  } else {
    ANDON_RETURN_IF_ERROR(ValidateSelector(target));
  }
  absl::Duration keep = kDefaultKeep;
  if (request.has_keep_for()) {
    keep =
        absl::Seconds(request.keep_for().seconds()) + absl::Nanoseconds(request.keep_for().nanos());
    if (keep <= absl::ZeroDuration() || keep > kMaxKeep) {
      return absl::InvalidArgumentError(
          absl::StrCat("keep_for ", absl::FormatDuration(keep), " must be between 0s and 10m"));
    }
  }
  const absl::Time now = clock_->Now();
  const std::string key =
      absl::StrCat(SelectorText(target), "|", absl::StrJoin(request.types(), ","));
  bool push = false;
  {
    absl::MutexLock lock(&mu_);
    Active& a = active_[key];
    push = now + keep - a.pushed_until > kRepushSlack || a.pushed_until < now + kRepushSlack;
    if (push) a.pushed_until = now + keep;
  }
  uint32_t hosts = 0;
  if (push) {
    v1::EventTailRequest tail;
    for (const std::string& t : request.types()) tail.add_types(t);
    tail.set_until_unix_ms(absl::ToUnixMillis(now + keep));
    hosts = send_(target, tail);
    absl::MutexLock lock(&mu_);
    active_[key].hosts = hosts;
  }
  // Which hosts the tail covers, for filtering what other tails brought in.
  std::set<std::string> selected;
  for (const v1::Host& h : registry_->ListHosts({})) {
    if (SelectorMatches(target, h.info().host_id(), h.info().labels())) {
      selected.insert(h.info().host_id());
    }
  }
  const std::set<std::string> types(request.types().begin(), request.types().end());
  const uint32_t limit = request.limit() == 0 ? kDefaultLimit : request.limit();
  v1::TailResponse out;
  absl::MutexLock lock(&mu_);
  out.set_hosts_tailing(push ? hosts : active_[key].hosts);
  out.set_dropped(dropped_);
  out.set_last_sequence(request.after_sequence());
  for (const Stored& s : events_) {
    if (s.sequence <= request.after_sequence()) continue;
    if (static_cast<uint32_t>(out.events_size()) >= limit) break;
    out.set_last_sequence(s.sequence);
    if (!types.empty() && types.count(s.event.type()) == 0) continue;
    if (selected.count(s.event.host()) == 0) continue;
    v1::TailedEvent* e = out.add_events();
    e->set_sequence(s.sequence);
    *e->mutable_event() = s.event;
  }
  return out;
}

void EventTails::Add(const std::string& host_id, const v1::EventBatch& batch) {
  absl::MutexLock lock(&mu_);
  dropped_ += batch.dropped();
  for (const v1::Event& e : batch.events()) {
    Stored& s = events_.emplace_back();
    s.sequence = ++sequence_;
    s.event = e;
    s.event.set_host(host_id);
    if (events_.size() > kCapacity) {
      events_.pop_front();
      ++dropped_;
    }
  }
}

}  // namespace andon::controller
