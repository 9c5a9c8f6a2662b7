#include "common/value/gauge.h"

#include "common/value/float_order.h"

namespace andon {

using value_internal::OrderedLess;
using value_internal::OrderedMax;
using value_internal::OrderedMin;

v1::Gauge GaugeOf(double value, int64_t time_ns) {
  v1::Gauge g;
  g.set_min(value);
  g.set_max(value);
  g.set_sum(value);
  g.set_count(1);
  g.set_last(value);
  g.set_last_time_ns(time_ns);
  return g;
}

void MergeGauge(const v1::Gauge& from, v1::Gauge& into) {
  if (from.count() == 0) {
    if (into.count() == 0) into.Clear();  // a canonical empty, whatever the inputs held
    return;
  }
  if (into.count() == 0) {
    into = from;
    return;
  }
  into.set_min(OrderedMin(into.min(), from.min()));
  into.set_max(OrderedMax(into.max(), from.max()));
  into.set_sum(into.sum() + from.sum());
  into.set_count(into.count() + from.count());
  // (time, value) in lexicographic order is a total order, so "the later, or
  // the larger at equal times" is a max: associative and commutative.
  const bool from_later =
      from.last_time_ns() > into.last_time_ns() ||
      (from.last_time_ns() == into.last_time_ns() && OrderedLess(into.last(), from.last()));
  if (from_later) {
    into.set_last(from.last());
    into.set_last_time_ns(from.last_time_ns());
  }
}

}  // namespace andon
