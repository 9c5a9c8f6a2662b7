#include "agent/event_tail.h"

#include <algorithm>

#include "common/log.h"

namespace andon::agent {
namespace {

constexpr uint32_t kDefaultMaxPerSecond = 200;
constexpr uint32_t kMaxPerSecondCap = 5000;

}  // namespace

void EventTail::Set(const v1::EventTailRequest& request) {
  absl::MutexLock lock(&mu_);
  const bool was_on = absl::FromUnixMillis(request_.until_unix_ms()) > clock_->Now();
  request_ = request;
  if (!was_on) {
    ANDON_LOG(INFO) << "live tail on until " << absl::FromUnixMillis(request.until_unix_ms())
                    << " (" << (request.types().empty() ? 0 : request.types_size())
                    << " types; 0 = all)";
  }
}

std::optional<v1::EventBatch> EventTail::Next(absl::Duration since_last) {
  v1::EventTailRequest request;
  {
    absl::MutexLock lock(&mu_);
    request = request_;
  }
  if (absl::FromUnixMillis(request.until_unix_ms()) <= clock_->Now()) return std::nullopt;
  uint32_t rate = request.max_per_second() == 0
                      ? kDefaultMaxPerSecond
                      : std::min(request.max_per_second(), kMaxPerSecondCap);
  const size_t max = std::max<size_t>(
      1, static_cast<size_t>(rate * std::min(absl::ToDoubleSeconds(since_last), 5.0)));
  std::vector<std::string> types(request.types().begin(), request.types().end());
  uint64_t lost = 0;
  std::vector<v1::Event> events = probes_->NewEvents(types, max, &lost);
  if (events.empty() && lost == 0) return std::nullopt;
  v1::EventBatch batch;
  for (v1::Event& e : events) *batch.add_events() = std::move(e);
  batch.set_dropped(lost);
  return batch;
}

}  // namespace andon::agent
