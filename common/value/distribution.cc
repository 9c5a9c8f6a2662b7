#include "common/value/distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/value/float_order.h"

namespace andon {
namespace {

using value_internal::OrderedMax;
using value_internal::OrderedMin;

int Log2(uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

absl::Status ValidateDistribution(const v1::Distribution& d) {
  const uint32_t bits = d.sub_bucket_bits();
  if (bits > kDistributionMaxSubBucketBits) {
    return absl::InvalidArgumentError(absl::StrCat("distribution sub_bucket_bits ", bits,
                                                   " is above the supported ",
                                                   kDistributionMaxSubBucketBits));
  }
  const int32_t max_index = LogLinearMaxBucket(bits);
  auto out_of_range = [&](int64_t index) {
    return absl::InvalidArgumentError(absl::StrCat("distribution bucket index ", index,
                                                   " is outside [0, ", max_index, "] for ", bits,
                                                   " sub-bucket bits"));
  };
  uint64_t total = 0;
  if (!d.buckets().empty()) {
    if (d.bucket_index_deltas_size() != 0 || d.bucket_counts_size() != 0) {
      return absl::InvalidArgumentError(
          "distribution carries its buckets both as a map and as arrays; send one");
    }
    for (const auto& [index, count] : d.buckets()) {
      if (index < 0 || index > max_index) return out_of_range(index);
      if (__builtin_add_overflow(total, count, &total)) {
        return absl::InvalidArgumentError("distribution bucket counts overflow 64 bits");
      }
    }
  } else {
    if (d.bucket_index_deltas_size() != d.bucket_counts_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("distribution has ", d.bucket_index_deltas_size(), " bucket indexes but ",
                       d.bucket_counts_size(), " bucket counts"));
    }
    int64_t index = 0;
    for (int i = 0; i < d.bucket_counts_size(); ++i) {
      const uint32_t delta = d.bucket_index_deltas(i);
      if (i > 0 && delta == 0) {
        return absl::InvalidArgumentError(absl::StrCat("distribution bucket index ", index,
                                                       " appears twice; indexes must ascend"));
      }
      index += delta;
      if (index > max_index) return out_of_range(index);
      if (__builtin_add_overflow(total, d.bucket_counts(i), &total)) {
        return absl::InvalidArgumentError("distribution bucket counts overflow 64 bits");
      }
    }
  }
  if (total != d.count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("distribution count ", d.count(), " differs from its bucket total ", total));
  }
  return absl::OkStatus();
}

int32_t LogLinearBucket(uint64_t v, uint32_t sub_bucket_bits) {
  const int b = static_cast<int>(sub_bucket_bits);
  if (v < (uint64_t{1} << b)) return static_cast<int32_t>(v);
  const int e = Log2(v);
  return ((e - b + 1) << b) + static_cast<int32_t>((v >> (e - b)) & ((uint64_t{1} << b) - 1));
}

uint64_t LogLinearBucketLower(int32_t i, uint32_t sub_bucket_bits) {
  const int b = static_cast<int>(sub_bucket_bits);
  if (i <= 0) return 0;
  if (i < (1 << b)) return static_cast<uint64_t>(i);
  // Inverse of the mapping: i = ((e - b + 1) << b) + sub, lower = (2^b + sub) << (e - b).
  const int shift = (i >> b) - 1;
  const uint64_t sub = static_cast<uint64_t>(i) & ((uint64_t{1} << b) - 1);
  return ((uint64_t{1} << b) + sub) << shift;
}

uint64_t LogLinearBucketMax(int32_t i, uint32_t sub_bucket_bits) {
  const int b = static_cast<int>(sub_bucket_bits);
  if (i < (1 << b)) return LogLinearBucketLower(i, sub_bucket_bits);
  const int shift = (i >> b) - 1;
  return LogLinearBucketLower(i, sub_bucket_bits) + ((uint64_t{1} << shift) - 1);
}

int32_t LogLinearMaxBucket(uint32_t sub_bucket_bits) {
  return LogLinearBucket(std::numeric_limits<uint64_t>::max(), sub_bucket_bits);
}

int32_t DistributionBucket(uint64_t v) { return andon_log_linear_bucket(v); }

uint64_t DistributionBucketLower(int32_t i) {
  return LogLinearBucketLower(i, kDistributionSubBucketBits);
}

uint64_t DistributionBucketUpper(int32_t i) {
  const uint64_t max = LogLinearBucketMax(i, kDistributionSubBucketBits);
  return max == std::numeric_limits<uint64_t>::max() ? max : max + 1;
}

void DistributionBuilder::Add(uint64_t value, uint64_t count) {
  if (count == 0) return;
  const auto index = static_cast<size_t>(DistributionBucket(value));
  if (index >= buckets_.size()) buckets_.resize(index + 1, 0);
  buckets_[index] += count;
  count_ += count;
  twice_sum_ += static_cast<unsigned __int128>(value) * count * 2;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

absl::Status DistributionBuilder::AddBucket(int32_t index, uint64_t count) {
  if (index < 0 || index > kDistributionMaxBucket) {
    return absl::InvalidArgumentError(absl::StrCat(
        "distribution bucket index ", index, " is outside [0, ", kDistributionMaxBucket, "]"));
  }
  if (count == 0) return absl::OkStatus();
  const uint64_t lower = LogLinearBucketLower(index, kDistributionSubBucketBits);
  const uint64_t max = LogLinearBucketMax(index, kDistributionSubBucketBits);
  const auto i = static_cast<size_t>(index);
  if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
  buckets_[i] += count;
  count_ += count;
  // The midpoint of the bucket's integers is (lower + max) / 2.
  twice_sum_ += (static_cast<unsigned __int128>(lower) + max) * count;
  min_ = std::min(min_, lower);
  max_ = std::max(max_, max);
  return absl::OkStatus();
}

v1::Distribution DistributionBuilder::ToProto() const {
  v1::Distribution d;
  d.set_sub_bucket_bits(kDistributionSubBucketBits);
  if (count_ == 0) return d;
  BucketAppender buckets(&d);
  for (size_t i = 0; i < buckets_.size(); ++i) buckets.Add(static_cast<int32_t>(i), buckets_[i]);
  d.set_count(count_);
  // Halving a double is exact, so the only rounding is the conversion.
  d.set_sum(static_cast<double>(twice_sum_) / 2);
  d.set_min(static_cast<double>(min_));
  d.set_max(static_cast<double>(max_));
  return d;
}

absl::Status MergeDistribution(const v1::Distribution& from, v1::Distribution& into) {
  if (from.count() != 0 && into.count() != 0 && from.sub_bucket_bits() != into.sub_bucket_bits()) {
    return absl::InvalidArgumentError(
        absl::StrCat("distribution resolution differs: ", from.sub_bucket_bits(), " vs ",
                     into.sub_bucket_bits(), " sub-bucket bits; re-bucket one of them first"));
  }
  if (absl::Status s = ValidateDistribution(from); !s.ok()) return s;
  if (from.count() == 0) {
    if (into.count() == 0) {
      // Two empties: a canonical empty, so that the result does not depend on the order.
      const uint32_t bits = std::max(from.sub_bucket_bits(), into.sub_bucket_bits());
      into.Clear();
      into.set_sub_bucket_bits(bits);
    }
    return absl::OkStatus();
  }
  if (into.count() == 0) {
    into = from;
    // In the arrays, and without zero buckets, which would otherwise survive
    // or not depending on the order.
    std::vector<std::pair<int32_t, uint64_t>> buckets;
    ForEachBucket(from, [&](int32_t index, uint64_t count) { buckets.emplace_back(index, count); });
    BucketAppender out(&into);
    for (const auto& [index, count] : buckets) out.Add(index, count);
    return absl::OkStatus();
  }
  // Both sorted: merge the two lists.
  std::vector<std::pair<int32_t, uint64_t>> a, b;
  ForEachBucket(into, [&](int32_t index, uint64_t count) { a.emplace_back(index, count); });
  ForEachBucket(from, [&](int32_t index, uint64_t count) { b.emplace_back(index, count); });
  BucketAppender out(&into);
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
      out.Add(a[i].first, a[i].second);
      ++i;
    } else if (i == a.size() || b[j].first < a[i].first) {
      out.Add(b[j].first, b[j].second);
      ++j;
    } else {
      out.Add(a[i].first, a[i].second + b[j].second);
      ++i;
      ++j;
    }
  }
  into.set_count(into.count() + from.count());
  into.set_sum(into.sum() + from.sum());
  into.set_min(OrderedMin(into.min(), from.min()));
  into.set_max(OrderedMax(into.max(), from.max()));
  return absl::OkStatus();
}

double DistributionQuantile(const v1::Distribution& d, double q) {
  const uint32_t bits = d.sub_bucket_bits();
  if (d.count() == 0 || DistributionBucketCount(d) == 0 || bits > kDistributionMaxSubBucketBits ||
      std::isnan(q)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank, 1-based: the smallest rank r with r >= q * n.
  const double n = static_cast<double>(d.count());
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(q * n)), 1, d.count());
  uint64_t seen = 0;
  int32_t index = 0;  // the last bucket if the counts fall short of d.count()
  bool found = false;
  ForEachBucket(d, [&](int32_t i, uint64_t count) {
    if (found) return;
    index = i;
    seen += count;
    found = seen >= rank;
  });
  const uint64_t lower = LogLinearBucketLower(index, bits);
  const uint64_t max = LogLinearBucketMax(index, bits);
  // The midpoint of a bucket of width w >= 2 (a power of two) is lower + w / 2.
  double estimate = static_cast<double>(lower);
  if (max != lower) estimate += static_cast<double>((max - lower + 1) / 2);
  if (d.min() <= d.max()) estimate = std::clamp(estimate, d.min(), d.max());
  return estimate;
}

std::vector<std::pair<uint64_t, uint64_t>> DistributionCoarseBuckets(const v1::Distribution& d,
                                                                     uint32_t sub_bucket_bits) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const uint32_t bits = d.sub_bucket_bits();
  if (bits > kDistributionMaxSubBucketBits) return out;
  const uint32_t coarse_bits = std::min(sub_bucket_bits, bits);
  std::vector<std::pair<int32_t, uint64_t>> coarse;  // (coarse index, count)
  coarse.reserve(static_cast<size_t>(DistributionBucketCount(d)));
  ForEachBucket(d, [&](int32_t index, uint64_t count) {
    if (count == 0 || index < 0) return;
    coarse.emplace_back(LogLinearBucket(LogLinearBucketLower(index, bits), coarse_bits), count);
  });
  // Ascending already: coarsening keeps the order.
  for (const auto& [index, count] : coarse) {
    const uint64_t lower = LogLinearBucketLower(index, coarse_bits);
    if (!out.empty() && out.back().first == lower) {
      out.back().second += count;
    } else {
      out.emplace_back(lower, count);
    }
  }
  return out;
}

}  // namespace andon
