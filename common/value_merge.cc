#include "common/value_merge.h"

#include "absl/strings/str_cat.h"
#include "common/value/distribution.h"
#include "common/value/gauge.h"
#include "common/value/top_k.h"

namespace andon {

absl::Status MergeValue(const v1::Value& from, v1::Value& into) {
  if (from.kind_case() == v1::Value::KIND_NOT_SET) return absl::OkStatus();
  if (into.kind_case() == v1::Value::KIND_NOT_SET) {
    into = from;
    return absl::OkStatus();
  }
  if (from.kind_case() != into.kind_case()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot merge value of kind ", from.kind_case(),
                                                   " into kind ", into.kind_case()));
  }
  switch (from.kind_case()) {
    case v1::Value::kCounter:
      into.set_counter(into.counter() + from.counter());
      return absl::OkStatus();
    case v1::Value::kGauge:
      MergeGauge(from.gauge(), *into.mutable_gauge());
      return absl::OkStatus();
    case v1::Value::kDistribution:
      return MergeDistribution(from.distribution(), *into.mutable_distribution());
    case v1::Value::kTopK:
      MergeTopK(from.top_k(), *into.mutable_top_k());
      return absl::OkStatus();
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return absl::OkStatus();
}

}  // namespace andon
