#include "aggregator/storage/rollup_buffer.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/value_merge.h"

namespace andon::aggregator {
namespace {

constexpr int64_t kWindowNs = int64_t{10} * 1000 * 1000 * 1000;  // the windows held

GaugeWindow ToGaugeWindow(const RawWindow& w) {
  const v1::Gauge& g = w.value.gauge();
  return GaugeWindow{w.start_ns, w.window_ns, g.min(),   g.max(),
                     g.sum(),    g.last(),    g.count(), g.last_time_ns()};
}

RawWindow ToRawWindow(const GaugeWindow& w) {
  RawWindow out;
  out.start_ns = w.start_ns;
  out.window_ns = w.window_ns;
  v1::Gauge* g = out.value.mutable_gauge();
  g->set_min(w.min);
  g->set_max(w.max);
  g->set_sum(w.sum);
  g->set_count(w.count);
  g->set_last(w.last);
  g->set_last_time_ns(w.last_time_ns);
  return out;
}

// Room for the 10 s window's worth of windows as wide as `window`.
size_t WindowsPerBlock(const RawWindow& window) {
  return static_cast<size_t>(
      std::clamp<int64_t>(window.window_ns > 0 ? kWindowNs / window.window_ns : 1, 1, 10));
}

template <typename W>
bool After(const W& last, const RawWindow& next) {
  return last.start_ns < next.start_ns ||
         (last.start_ns == next.start_ns && last.window_ns < next.window_ns);
}

}  // namespace

absl::Status RollupBuffer::Add(uint64_t series_id, int64_t start_ns, const RawWindow& window) {
  auto [window_it, new_window] = windows_.try_emplace(start_ns);
  auto& series = window_it->second;
  if (new_window && window_it != windows_.begin() && std::next(window_it) == windows_.end()) {
    // The next 10 s window after the newest is sized as that one: a window
    // fills with about the same series, and growing a map of 100,000s of
    // entries step by step moves each entry many times. Any other new window
    // (a host's clock ahead, a gap) grows as it fills.
    auto before = std::prev(window_it);
    if (window_it->first - before->first == kWindowNs) series.reserve(before->second.size());
  }
  auto [it, inserted] = series.try_emplace(series_id);
  Entry& entry = it->second;
  const bool counter = window.value.kind_case() == v1::Value::kCounter;
  const bool gauge = window.value.kind_case() == v1::Value::kGauge;
  if (inserted) {
    entry.merged = window.value;
    if (counter) {
      entry.counters.reserve(WindowsPerBlock(window));
      entry.counters.push_back({window.start_ns, window.window_ns, window.value.counter()});
    } else if (gauge) {
      entry.gauges.reserve(WindowsPerBlock(window));
      entry.gauges.push_back(ToGaugeWindow(window));
    } else {
      entry.raw.push_back(window);
    }
    ++size_;
    return absl::OkStatus();
  }
  if (gauge && !entry.gauges.empty()) {
    v1::Value merged = entry.merged;
    if (absl::Status s = MergeValue(window.value, merged); !s.ok()) return s;
    if (After(entry.gauges.back(), window)) {
      entry.gauges.push_back(ToGaugeWindow(window));
    } else {
      // Out of order, or the same window again (rare): through the general
      // path, which merges a window of the same start and width.
      std::vector<RawWindow> windows;
      windows.reserve(entry.gauges.size() + 1);
      for (const GaugeWindow& g : entry.gauges) windows.push_back(ToRawWindow(g));
      if (absl::Status s = AddRawWindow(windows, window); !s.ok()) return s;
      entry.gauges.clear();
      for (const RawWindow& w : windows) entry.gauges.push_back(ToGaugeWindow(w));
    }
    entry.merged = std::move(merged);
    return absl::OkStatus();
  }
  if (counter && !entry.counters.empty()) {
    const CounterWindow next{window.start_ns, window.window_ns, window.value.counter()};
    // The common case: a later second of the same 10 s window.
    if (After(entry.counters.back(), window)) {
      entry.counters.push_back(next);
    } else {
      AddCounterWindow(entry.counters, next);
    }
    entry.merged.set_counter(entry.merged.counter() + next.count);
    return absl::OkStatus();
  }
  // Kinds differ (MergeValue refuses it), or a series of another kind.
  if (!entry.counters.empty() || !entry.gauges.empty()) {
    v1::Value merged = entry.merged;
    absl::Status s = MergeValue(window.value, merged);
    return s.ok() ? absl::InternalError("a window of a kind the buffer does not hold") : s;
  }
  v1::Value merged = entry.merged;
  if (absl::Status s = MergeValue(window.value, merged); !s.ok()) return s;
  if (absl::Status s = AddRawWindow(entry.raw, window); !s.ok()) return s;
  entry.merged = std::move(merged);
  return absl::OkStatus();
}

std::string RollupBuffer::Entry::Encode(int64_t start_ns) const {
  if (!counters.empty()) return EncodeCounterBlock(start_ns, counters);
  if (gauges.empty()) return EncodeRawBlock(start_ns, raw);
  std::vector<RawWindow> windows;
  windows.reserve(gauges.size());
  for (const GaugeWindow& g : gauges) windows.push_back(ToRawWindow(g));
  return EncodeRawBlock(start_ns, windows);
}

std::vector<uint64_t> RollupBuffer::SeriesAt(int64_t start_ns) const {
  std::vector<uint64_t> out;
  auto it = windows_.find(start_ns);
  if (it == windows_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [id, entry] : it->second) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

const RollupBuffer::Entry* RollupBuffer::Find(int64_t start_ns, uint64_t series_id) const {
  auto it = windows_.find(start_ns);
  if (it == windows_.end()) return nullptr;
  auto e = it->second.find(series_id);
  return e == it->second.end() ? nullptr : &e->second;
}

void RollupBuffer::Erase(int64_t start_ns, uint64_t series_id) {
  auto it = windows_.find(start_ns);
  if (it == windows_.end()) return;
  size_ -= it->second.erase(series_id);
  if (it->second.empty()) windows_.erase(it);
}

bool RollupBuffer::Visit(uint64_t series_id, int64_t from_ns, int64_t to_ns,
                         const std::function<bool(const RawWindow&)>& visit) const {
  for (auto it = windows_.lower_bound(from_ns); it != windows_.end() && it->first < to_ns; ++it) {
    auto e = it->second.find(series_id);
    if (e == it->second.end()) continue;
    for (const RawWindow& w : e->second.raw) {
      if (!visit(w)) return false;
    }
    for (const GaugeWindow& g : e->second.gauges) {
      if (!visit(ToRawWindow(g))) return false;
    }
    RawWindow w;
    for (const CounterWindow& c : e->second.counters) {
      w.start_ns = c.start_ns;
      w.window_ns = c.window_ns;
      w.value.set_counter(c.count);
      if (!visit(w)) return false;
    }
  }
  return true;
}

}  // namespace andon::aggregator
