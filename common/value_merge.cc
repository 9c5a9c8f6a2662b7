#include "common/value_merge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace andon {
namespace {

void MergeGauge(const v1::Gauge& from, v1::Gauge& into) {
  if (into.count() == 0) {
    into = from;
    return;
  }
  if (from.count() == 0) return;
  into.set_min(std::min(into.min(), from.min()));
  into.set_max(std::max(into.max(), from.max()));
  into.set_sum(into.sum() + from.sum());
  into.set_count(into.count() + from.count());
}

absl::Status MergeDistribution(const v1::Distribution& from, v1::Distribution& into) {
  if (into.count() == 0) {
    into = from;
    return absl::OkStatus();
  }
  if (from.count() == 0) return absl::OkStatus();
  if (from.sub_bucket_bits() != into.sub_bucket_bits()) {
    return absl::InvalidArgumentError(
        absl::StrCat("distribution resolution differs: ", from.sub_bucket_bits(), " vs ",
                     into.sub_bucket_bits(), " sub-bucket bits"));
  }
  for (const auto& [index, count] : from.buckets()) (*into.mutable_buckets())[index] += count;
  into.set_min(std::min(into.min(), from.min()));
  into.set_max(std::max(into.max(), from.max()));
  into.set_sum(into.sum() + from.sum());
  into.set_count(into.count() + from.count());
  return absl::OkStatus();
}

// Space-saving merge: add counts of equal keys, keep the `capacity` largest.
void MergeTopK(const v1::TopK& from, v1::TopK& into) {
  uint32_t capacity = std::max(from.capacity(), into.capacity());
  for (const auto& e : from.entries()) {
    bool found = false;
    for (auto& mine : *into.mutable_entries()) {
      if (mine.key() == e.key()) {
        mine.set_count(mine.count() + e.count());
        mine.set_error(mine.error() + e.error());
        found = true;
        break;
      }
    }
    if (!found) *into.add_entries() = e;
  }
  auto* entries = into.mutable_entries();
  std::sort(
      entries->begin(), entries->end(),
      [](const v1::TopK::Entry& a, const v1::TopK::Entry& b) { return a.count() > b.count(); });
  if (capacity > 0) {
    while (static_cast<uint32_t>(entries->size()) > capacity) entries->RemoveLast();
  }
  into.set_capacity(capacity);
}

}  // namespace

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
