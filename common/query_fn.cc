#include "common/query_fn.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/value/distribution.h"

namespace andon {
namespace {

const char* KindName(v1::MetricKind kind) {
  switch (kind) {
    case v1::COUNTER:
      return "a counter";
    case v1::GAUGE:
      return "a gauge";
    case v1::DISTRIBUTION:
      return "a distribution";
    case v1::TOP_K:
      return "a top-k";
    default:
      return "of no known kind";
  }
}

// The functions that apply to each kind, as named in errors.
const char* FunctionsOf(v1::MetricKind kind) {
  switch (kind) {
    case v1::COUNTER:
      return "count, sum, rate or topk(K)";
    case v1::GAUGE:
      return "avg, min, max, last, sum, count or topk(K)";
    case v1::DISTRIBUTION:
      return "count, rate, sum, avg, min, max, quantile(Q), heatmap or topk(K)";
    case v1::TOP_K:
      return "count, rate or topk(K)";
    default:
      return "nothing";
  }
}

bool Applies(QueryFnKind fn, v1::MetricKind kind) {
  switch (fn) {
    case QueryFnKind::kCount:
    case QueryFnKind::kTopK:
      return true;
    case QueryFnKind::kSum:
      return kind != v1::TOP_K;
    case QueryFnKind::kRate:
      return kind != v1::GAUGE;
    case QueryFnKind::kAvg:
    case QueryFnKind::kMin:
    case QueryFnKind::kMax:
      return kind == v1::GAUGE || kind == v1::DISTRIBUTION;
    case QueryFnKind::kLast:
      return kind == v1::GAUGE;
    case QueryFnKind::kQuantile:
    case QueryFnKind::kHeatmap:
      return kind == v1::DISTRIBUTION;
  }
  return false;
}

// "name(arg)" -> arg, or nullopt when `text` is not a call of `name`.
std::optional<absl::string_view> CallArgument(absl::string_view text, absl::string_view name) {
  if (!absl::ConsumePrefix(&text, name)) return std::nullopt;
  text = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&text, "(") || !absl::ConsumeSuffix(&text, ")")) return std::nullopt;
  return absl::StripAsciiWhitespace(text);
}

absl::StatusOr<QueryFn> ParseText(absl::string_view text) {
  QueryFn fn;
  const std::vector<std::pair<absl::string_view, QueryFnKind>> plain = {
      {"count", QueryFnKind::kCount}, {"sum", QueryFnKind::kSum},
      {"rate", QueryFnKind::kRate},   {"avg", QueryFnKind::kAvg},
      {"min", QueryFnKind::kMin},     {"max", QueryFnKind::kMax},
      {"last", QueryFnKind::kLast},   {"heatmap", QueryFnKind::kHeatmap},
  };
  for (const auto& [name, kind] : plain) {
    if (text == name) {
      fn.kind = kind;
      return fn;
    }
  }
  if (auto arg = CallArgument(text, "quantile")) {
    double q = 0;
    if (!absl::SimpleAtod(*arg, &q) || !(q >= 0 && q <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "query fn '", text, "': the quantile must be a number in [0, 1], e.g. quantile(0.99)"));
    }
    fn.kind = QueryFnKind::kQuantile;
    fn.q = q;
    return fn;
  }
  if (auto arg = CallArgument(text, "topk")) {
    uint32_t k = 0;
    if (!absl::SimpleAtoi(*arg, &k) || k < 1 || k > kMaxTopK) {
      return absl::InvalidArgumentError(absl::StrCat("query fn '", text,
                                                     "': K must be a whole number from 1 to ",
                                                     kMaxTopK, ", e.g. topk(10)"));
    }
    fn.kind = QueryFnKind::kTopK;
    fn.k = k;
    return fn;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "query fn '", text,
      "' is unknown; use count, sum, rate, avg, min, max, last, quantile(Q), heatmap or topk(K)"));
}

std::optional<double> DefaultNumber(const v1::Value& value, double seconds) {
  QueryFn fn;
  fn.kind = value.kind_case() == v1::Value::kGauge ? QueryFnKind::kAvg : QueryFnKind::kCount;
  return ApplyQueryFn(fn, value, seconds);
}

double Events(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kCounter:
      return static_cast<double>(value.counter());
    case v1::Value::kGauge:
      return static_cast<double>(value.gauge().count());
    case v1::Value::kDistribution:
      return static_cast<double>(value.distribution().count());
    case v1::Value::kTopK:
      return static_cast<double>(value.top_k().total());
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return 0;
}

}  // namespace

std::string QueryFn::Name() const {
  switch (kind) {
    case QueryFnKind::kCount:
      return "count";
    case QueryFnKind::kSum:
      return "sum";
    case QueryFnKind::kRate:
      return "rate";
    case QueryFnKind::kAvg:
      return "avg";
    case QueryFnKind::kMin:
      return "min";
    case QueryFnKind::kMax:
      return "max";
    case QueryFnKind::kLast:
      return "last";
    case QueryFnKind::kQuantile:
      return absl::StrFormat("quantile(%g)", q);
    case QueryFnKind::kHeatmap:
      return "heatmap";
    case QueryFnKind::kTopK:
      return absl::StrCat("topk(", k, ")");
  }
  return "";
}

absl::StatusOr<QueryFn> ParseQueryFn(absl::string_view text, const v1::MetricInfo& metric) {
  text = absl::StripAsciiWhitespace(text);
  QueryFn fn;
  if (text.empty()) {
    fn.kind = metric.kind() == v1::GAUGE ? QueryFnKind::kAvg : QueryFnKind::kCount;
    return fn;
  }
  std::string lower = absl::AsciiStrToLower(text);
  absl::StatusOr<QueryFn> parsed = ParseText(lower);
  if (!parsed.ok()) return parsed.status();
  if (!Applies(parsed->kind, metric.kind())) {
    const char* applies_to =
        parsed->kind == QueryFnKind::kLast   ? "gauges"
        : parsed->kind == QueryFnKind::kRate ? "counters, distributions and top-k"
        : parsed->kind == QueryFnKind::kSum  ? "counters, gauges and distributions"
        : parsed->kind == QueryFnKind::kQuantile || parsed->kind == QueryFnKind::kHeatmap
            ? "distributions"
            : "gauges and distributions";
    return absl::InvalidArgumentError(
        absl::StrCat("query fn ", parsed->Name(), " applies to ", applies_to, "; ", metric.name(),
                     " is ", KindName(metric.kind()), " (use ", FunctionsOf(metric.kind()), ")"));
  }
  return parsed;
}

std::optional<double> ApplyQueryFn(const QueryFn& fn, const v1::Value& value, double seconds) {
  const bool gauge = value.kind_case() == v1::Value::kGauge;
  const bool dist = value.kind_case() == v1::Value::kDistribution;
  const v1::Gauge& g = value.gauge();
  const v1::Distribution& d = value.distribution();
  const bool empty = (gauge && g.count() == 0) || (dist && d.count() == 0);
  switch (fn.kind) {
    case QueryFnKind::kCount:
      return Events(value);
    case QueryFnKind::kRate:
      return seconds > 0 ? Events(value) / seconds : 0;
    case QueryFnKind::kSum:
      if (gauge) return g.sum();
      if (dist) return d.sum();
      return Events(value);
    case QueryFnKind::kAvg:
      if (empty || !(gauge || dist)) return std::nullopt;
      return gauge ? g.sum() / static_cast<double>(g.count())
                   : d.sum() / static_cast<double>(d.count());
    case QueryFnKind::kMin:
      if (empty || !(gauge || dist)) return std::nullopt;
      return gauge ? g.min() : d.min();
    case QueryFnKind::kMax:
      if (empty || !(gauge || dist)) return std::nullopt;
      return gauge ? g.max() : d.max();
    case QueryFnKind::kLast:
      if (empty || !gauge) return std::nullopt;
      return g.last();
    case QueryFnKind::kQuantile: {
      if (empty || !dist) return std::nullopt;
      const double v = DistributionQuantile(d, fn.q);
      if (std::isnan(v)) return std::nullopt;
      return v;
    }
    case QueryFnKind::kHeatmap:
    case QueryFnKind::kTopK:
      return DefaultNumber(value, seconds);
  }
  return std::nullopt;
}

std::string QueryFnUnit(const QueryFn& fn, const v1::MetricInfo& metric) {
  switch (fn.kind) {
    case QueryFnKind::kRate:
      // A counter's events may carry a unit (bio_bytes counts bytes).
      return metric.kind() == v1::COUNTER && !metric.unit().empty() ? metric.unit() + "/s" : "1/s";
    case QueryFnKind::kHeatmap:
      return metric.unit();  // of the cells' bounds; each point's number counts events
    case QueryFnKind::kCount:
    case QueryFnKind::kTopK:
      return metric.kind() == v1::COUNTER || metric.kind() == v1::GAUGE ? metric.unit() : "";
    default:
      return metric.unit();
  }
}

}  // namespace andon
