#include "controller/query_merge.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace andon::controller {
namespace {

constexpr uint32_t kDefaultLimit = 1000;

using LabelList = std::vector<std::pair<std::string, std::string>>;

LabelList SortedLabels(const v1::Series& s) {
  LabelList labels;
  for (const auto& l : s.labels()) labels.emplace_back(l.name(), l.value());
  std::sort(labels.begin(), labels.end());
  return labels;
}

struct MergedSeries {
  std::map<int64_t, double> points;  // time_ms -> value
  double total = 0;
};

}  // namespace

v1::QueryResponse MergeQueryResponses(const std::vector<v1::QueryResponse>& responses,
                                      uint32_t limit) {
  v1::QueryResponse out;
  if (!responses.empty()) {
    out.set_metric(responses[0].metric());
    out.set_kind(responses[0].kind());
  }
  std::map<LabelList, MergedSeries> merged;
  uint32_t truncated_upstream = 0;
  for (const auto& r : responses) {
    truncated_upstream += r.series_truncated();
    for (const auto& s : r.series()) {
      MergedSeries& m = merged[SortedLabels(s)];
      for (const auto& p : s.points()) m.points[p.time_ms()] += p.value();
      m.total += s.total();
    }
  }
  std::vector<std::pair<const LabelList*, const MergedSeries*>> order;
  order.reserve(merged.size());
  for (const auto& [labels, series] : merged) order.emplace_back(&labels, &series);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second->total > b.second->total;  // map order already sorts ties by labels
  });
  if (limit == 0) limit = kDefaultLimit;
  size_t keep = std::min<size_t>(order.size(), limit);
  for (size_t i = 0; i < keep; ++i) {
    v1::Series* s = out.add_series();
    for (const auto& [name, value] : *order[i].first) {
      v1::Label* l = s->add_labels();
      l->set_name(name);
      l->set_value(value);
    }
    for (const auto& [t, v] : order[i].second->points) {
      v1::SamplePoint* p = s->add_points();
      p->set_time_ms(t);
      p->set_value(v);
    }
    s->set_total(order[i].second->total);
  }
  out.set_series_truncated(truncated_upstream + static_cast<uint32_t>(order.size() - keep));
  return out;
}

}  // namespace andon::controller
