#include "aggregator/forward/window_reducer.h"

#include <utility>

#include "aggregator/storage/storage_keys.h"
#include "common/log.h"
#include "common/value_merge.h"

namespace andon::aggregator {

WindowReducer::WindowReducer(int64_t cursor_ns, size_t max_points)
    : max_points_(max_points), cursor_(cursor_ns) {}

void WindowReducer::SetRules(ForwardRules rules) {
  absl::MutexLock lock(&mu_);
  rules_ = std::move(rules);
}

bool WindowReducer::MergeInto(Window& window, const v1::Point& point, const v1::HostLabels* host) {
  v1::SeriesKey reduced = rules_.Reduce(point.series(), host);
  std::string key = EncodeUint64(static_cast<uint64_t>(point.window_start_ns())) +
                    EncodeUint64(static_cast<uint64_t>(point.window_ns())) +
                    reduced.SerializeAsString();
  auto it = window.find(key);
  if (it == window.end()) {
    if (pending_ >= max_points_) return false;
    v1::Point& p = window[key];
    *p.mutable_series() = std::move(reduced);
    p.set_window_start_ns(point.window_start_ns());
    p.set_window_ns(point.window_ns());
    *p.mutable_value() = point.value();
    ++pending_;
    return true;
  }
  absl::Status merged = MergeValue(point.value(), *it->second.mutable_value());
  if (!merged.ok()) {
    // The store merged it with the same rule; only a series whose kind
    // changed between runs gets here.
    ANDON_LOG(WARNING) << "not forwarding a point: " << merged.message();
    return false;
  }
  return true;
}

WindowReducer::Added WindowReducer::Add(const v1::Point& point, const v1::HostLabels* host) {
  absl::MutexLock lock(&mu_);
  const bool late = point.window_start_ns() < cursor_;
  Window& into = late ? late_ : open_[point.window_start_ns()];
  if (!MergeInto(into, point, host)) {
    ++dropped_points_;
    return Added::kDropped;
  }
  if (!late) return Added::kOpen;
  ++late_points_;
  return Added::kLate;
}

std::vector<v1::Point> WindowReducer::Close(int64_t cursor_ns) {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Point> out;
  auto take = [&](Window& w) {
    for (auto& [key, point] : w) out.push_back(std::move(point));
    pending_ -= w.size();
  };
  take(late_);
  late_.clear();
  if (cursor_ns > cursor_) {
    auto end = open_.lower_bound(cursor_ns);
    for (auto it = open_.begin(); it != end; ++it) take(it->second);
    open_.erase(open_.begin(), end);
    cursor_ = cursor_ns;
  }
  return out;
}

int64_t WindowReducer::cursor() const {
  absl::MutexLock lock(&mu_);
  return cursor_;
}

size_t WindowReducer::pending_points() const {
  absl::MutexLock lock(&mu_);
  return pending_;
}

uint64_t WindowReducer::late_points() const {
  absl::MutexLock lock(&mu_);
  return late_points_;
}

uint64_t WindowReducer::dropped_points() const {
  absl::MutexLock lock(&mu_);
  return dropped_points_;
}

}  // namespace andon::aggregator
