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
  if (!d.buckets().empty() || d.sub_bucket_bits() > kDistributionMaxSubBucketBits ||
      d.bucket_index_deltas_size() != d.bucket_counts_size()) {
    // The old map encoding, or malformed: checked first, then added.
    if (absl::Status s = ValidateDistribution(d); !s.ok()) return s;
    if (d.count() == 0) {
      if (empty_) bits_ = std::max(bits_, d.sub_bucket_bits());
      return absl::OkStatus();
    }
    ForEachBucket(d, [&](int32_t index, uint64_t count) {
      const auto i = static_cast<size_t>(index);  // validated: non-negative, bounded
      if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
      buckets_[i] += count;
    });
  } else {
    // The arrays, checked as they are added in one pass (merging 10,000
    // hosts' distributions is mostly this loop); a malformed one is taken
    // out again.
    const int64_t max_index = LogLinearMaxBucket(d.sub_bucket_bits());
    const int n = d.bucket_counts_size();
    int64_t index = 0;
    uint64_t total = 0;
    int added = 0;
    bool ok = true;
    // Sized once for every index of the resolution: no check per bucket.
    if (buckets_.size() <= static_cast<size_t>(max_index)) {
      buckets_.resize(static_cast<size_t>(max_index) + 1, 0);
    }
    const uint32_t* deltas = d.bucket_index_deltas().data();
    const uint64_t* counts = d.bucket_counts().data();
    uint64_t* buckets = buckets_.data();
    for (; added < n; ++added) {
      const uint32_t delta = deltas[added];
      const uint64_t count = counts[added];
      index += delta;
      if ((added > 0 && delta == 0) || index > max_index ||
          __builtin_add_overflow(total, count, &total)) {
        ok = false;
        break;
      }
      buckets[index] += count;
    }
    if (!ok || total != d.count()) {
      index = 0;
      for (int k = 0; k < added; ++k) {
        index += d.bucket_index_deltas(k);
        buckets_[static_cast<size_t>(index)] -= d.bucket_counts(k);
      }
      return ValidateDistribution(d);  // says what is wrong
    }
    if (d.count() == 0) {
      if (empty_) bits_ = std::max(bits_, d.sub_bucket_bits());
      return absl::OkStatus();
    }
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
  BucketAppender buckets(&d);
  for (size_t i = 0; i < buckets_.size(); ++i) buckets.Add(static_cast<int32_t>(i), buckets_[i]);
  d.set_count(count_);
  d.set_sum(sum_);
  d.set_min(min_);
  d.set_max(max_);
  return d;
}

}  // namespace andon
