#pragma once

// Builders for ingest batches in tests.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aggregator/storage/series_store.h"
#include "andon/v1/ingest.pb.h"

namespace andon::aggregator::testing {

inline constexpr int64_t kSecondNs = 1000 * 1000 * 1000;
// A whole second, so any window up to 1 min is aligned.
inline constexpr int64_t kT0Ns = int64_t{1700000040} * kSecondNs;

inline v1::Point CounterPoint(const std::string& metric,
                              const std::vector<std::pair<std::string, std::string>>& labels,
                              int64_t window_start_ns, uint64_t count,
                              int64_t window_ns = kSecondNs) {
  v1::Point p;
  p.mutable_series()->set_metric(metric);
  for (const auto& [name, value] : labels) {
    v1::Label* l = p.mutable_series()->add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  p.set_window_start_ns(window_start_ns);
  p.set_window_ns(window_ns);
  p.mutable_value()->set_counter(count);
  return p;
}

// syscalls{host, comm, syscall} counting `count` in the window at `start_ns`.
inline v1::Point Syscalls(const std::string& host, const std::string& comm,
                          const std::string& syscall, int64_t start_ns, uint64_t count) {
  return CounterPoint("syscalls", {{"host", host}, {"comm", comm}, {"syscall", syscall}}, start_ns,
                      count);
}

inline v1::IngestBatch Batch(const std::string& sender, uint64_t sequence,
                             std::vector<v1::Point> points) {
  v1::IngestBatch b;
  b.set_sender_id(sender);
  b.set_sender_kind(v1::AGENT);
  b.set_sequence(sequence);
  for (auto& p : points) *b.add_points() = std::move(p);
  return b;
}

// Every series of `metric` in `store`; empty if the store cannot read.
inline std::vector<SeriesRef> AllSeries(const SeriesStore& store, const std::string& metric) {
  absl::StatusOr<std::vector<SeriesRef>> series = store.SelectSeries(metric, {});
  return series.ok() ? *std::move(series) : std::vector<SeriesRef>{};
}

}  // namespace andon::aggregator::testing
