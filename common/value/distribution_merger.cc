#include "common/value/distribution_merger.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/value/distribution.h"
#include "common/value/float_order.h"

namespace andon {

using value_internal::OrderedMax;
using value_internal::OrderedMin;

absl::Status DistributionMerger::Add(const v1::Distribution& d) {
  if (d.count() != 0 && !empty_ && d.sub_bucket_bits() != bits_) {
    return absl::InvalidArgumentError(
        absl::StrCat("distribution resolution differs: ", d.sub_bucket_bits(), " vs ", bits_,
                     " sub-bucket bits; re-bucket one of them first"));
  }
  if (absl::Status s = ValidateDistribution(d); !s.ok()) return s;
  if (d.count() == 0) {
    if (empty_) bits_ = std::max(bits_, d.sub_bucket_bits());
    return absl::OkStatus();
  }
  for (const auto& [index, count] : d.buckets()) {
    const auto i = static_cast<size_t>(index);  // validated: non-negative, bounded
    if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
    buckets_[i] += count;
  }
  if (empty_) {
    empty_ = false;
    bits_ = d.sub_bucket_bits();
    count_ = d.count();
    sum_ = d.sum();
    min_ = d.min();
    max_ = d.max();
    return absl::OkStatus();
  }
  count_ += d.count();
  sum_ += d.sum();
  min_ = OrderedMin(min_, d.min());
  max_ = OrderedMax(max_, d.max());
  return absl::OkStatus();
}

v1::Distribution DistributionMerger::ToProto() const {
  v1::Distribution d;
  d.set_sub_bucket_bits(bits_);
  if (empty_) return d;
  auto& buckets = *d.mutable_buckets();
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] != 0) buckets[static_cast<int32_t>(i)] = buckets_[i];
  }
  d.set_count(count_);
  d.set_sum(sum_);
  d.set_min(min_);
  d.set_max(max_);
  return d;
}

}  // namespace andon
