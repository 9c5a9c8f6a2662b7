#include "agent/window.h"

#include <limits>

#include "common/series_key.h"
#include "common/value_merge.h"

namespace andon::agent {

WindowAccumulator::WindowAccumulator(absl::Duration window, std::vector<v1::Label> common_labels)
    : window_(window),
      window_ns_(absl::ToInt64Nanoseconds(window)),
      common_labels_(std::move(common_labels)) {}

absl::Time WindowAccumulator::WindowStart(absl::Time t) const {
  int64_t ns = absl::ToUnixNanos(t);
  // Floor division, so that times before the epoch also align downwards.
  int64_t start = ns - ((ns % window_ns_) + window_ns_) % window_ns_;
  return absl::FromUnixNanos(start);
}

WindowAccumulator::Cell& WindowAccumulator::CellFor(const v1::SeriesKey& key, absl::Time at) {
  v1::SeriesKey canonical = key;
  for (const v1::Label& l : common_labels_) *canonical.add_labels() = l;
  // Labels set by the probe come first, so they win over common labels with
  // the same name (CanonicalizeSeriesKey keeps the first duplicate).
  CanonicalizeSeriesKey(canonical);
  std::string text = SeriesKeyToString(canonical);
  const int64_t start = absl::ToUnixNanos(WindowStart(at));
  Window& window = windows_[start];
  auto found = window.find(text);
  if (found != window.end()) return found->second;
  size_t& count = series_counts_[start][canonical.metric()];
  if (series_budget_ > 0 && count >= series_budget_) {
    for (v1::Label& l : *canonical.mutable_labels()) {
      if (l.name() == "comm" && l.value() != "other") {
        l.set_value("other");
        ++folded_[canonical.metric()];
        text = SeriesKeyToString(canonical);
        auto other = window.find(text);
        if (other != window.end()) return other->second;
        break;
      }
    }
  }
  ++count;
  auto [cell, inserted] = window.try_emplace(std::move(text));
  cell->second.key.Swap(&canonical);
  return cell->second;
}

void WindowAccumulator::AddCounter(const v1::SeriesKey& key, uint64_t count, absl::Time at) {
  if (count == 0) return;
  CellFor(key, at).counter += count;
}

void WindowAccumulator::AddGauge(const v1::SeriesKey& key, double value, absl::Time at) {
  v1::Value sample;
  v1::Gauge* g = sample.mutable_gauge();
  g->set_min(value);
  g->set_max(value);
  g->set_sum(value);
  g->set_count(1);
  g->set_last(value);
  g->set_last_time_ns(absl::ToUnixNanos(at));
  AddValue(key, sample, at).IgnoreError();  // a gauge series only ever holds gauges
}

absl::Status WindowAccumulator::AddValue(const v1::SeriesKey& key, const v1::Value& value,
                                         absl::Time at) {
  if (value.kind_case() == v1::Value::kCounter) {
    AddCounter(key, value.counter(), at);
    return absl::OkStatus();
  }
  if (value.kind_case() == v1::Value::KIND_NOT_SET) return absl::OkStatus();
  return MergeValue(value, CellFor(key, at).value);
}

std::vector<v1::Point> WindowAccumulator::Flush(absl::Time now) {
  return FlushStartingBy(absl::ToUnixNanos(now) - window_ns_);
}

std::vector<v1::Point> WindowAccumulator::FlushAll() {
  return FlushStartingBy(std::numeric_limits<int64_t>::max());
}

std::vector<v1::Point> WindowAccumulator::FlushStartingBy(int64_t last_start_ns) {
  std::vector<v1::Point> out;
  auto it = windows_.begin();
  for (; it != windows_.end() && it->first <= last_start_ns; ++it) {
    for (auto& [text, cell] : it->second) {
      v1::Point& p = out.emplace_back();
      *p.mutable_series() = std::move(cell.key);
      p.set_window_start_ns(it->first);
      p.set_window_ns(window_ns_);
      if (cell.value.kind_case() != v1::Value::KIND_NOT_SET) {
        *p.mutable_value() = std::move(cell.value);
      } else {
        p.mutable_value()->set_counter(cell.counter);
      }
    }
  }
  windows_.erase(windows_.begin(), it);
  series_counts_.erase(series_counts_.begin(), series_counts_.upper_bound(last_start_ns));
  return out;
}

}  // namespace andon::agent
