#pragma once

// Log-linear histograms of non-negative integers (latencies in ns, sizes in
// bytes), carried as v1::Distribution and shared by agents, aggregators and
// queries.
//
// Buckets. The mapping is common/value/log_linear_bucket.h (also compiled
// into BPF programs), with B = sub_bucket_bits = 7: a value below 2^B is its
// own bucket; a value v >= 2^B with e = floor(log2 v) goes to bucket
//   ((e - B + 1) << B) + ((v >> (e - B)) & (2^B - 1)),
// so values below 256 are exact, every power-of-two range is split into 128
// equal buckets, a bucket [lower, upper) is at most lower / 128 wide, and
// indexes run from 0 (the value zero) to 7423.
//
// Error bound. DistributionQuantile finds the bucket holding the value of
// the requested rank and returns its midpoint (its exact value when the
// bucket is one integer wide), clamped to [min, max]. The exact quantile
// lies in the same bucket, so the relative error is at most
// 2^-(B+1) = 1/256 (0.39 %) of the exact value, and zero below 256. "Exact
// quantile" is the nearest-rank one: the value of rank max(1, ceil(q * n))
// among the n values, sorted. Merging never adds error: bucket counts add
// exactly.
//
// Merging. Bucket counts, count, min and max merge exactly, so any order or
// grouping of merges gives the same proto (serialize it deterministically:
// map order is otherwise unspecified). `sum` is a double: it is exact, and
// merges are then exactly associative too, while sums are integers (or
// halves, see AddBucket) below 2^53 (104 days of summed nanoseconds, 8 PiB of
// bytes); beyond, each merge rounds to the nearest double and the last bit
// may depend on the merge order.
//
// Encoding. The non-empty buckets travel as two packed arrays in ascending
// index order (bucket_index_deltas, bucket_counts): a bucket costs about 2.5
// bytes on the wire, and parsing allocates per array, not per bucket. Values
// written before carry the map `buckets` instead; everything here reads
// either (ForEachBucket) and writes the arrays (BucketAppender), so a merge
// or a roll-up turns an old value into the new encoding.

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "andon/v1/types.pb.h"
#include "common/value/log_linear_bucket.h"

namespace andon {

inline constexpr int kDistributionSubBucketBits = ANDON_DIST_SUB_BUCKET_BITS;
inline constexpr int32_t kDistributionMaxBucket = ANDON_DIST_MAX_BUCKET;
// The largest sub_bucket_bits that merges and quantiles accept.
inline constexpr uint32_t kDistributionMaxSubBucketBits = 12;

// Calls fn(index, count) for each bucket of `d` in ascending index order,
// whichever encoding it carries (the map form is sorted first). Indexes are
// as stored: check them with ValidateDistribution first.
template <typename Fn>
void ForEachBucket(const v1::Distribution& d, Fn&& fn) {
  if (d.buckets().empty()) {
    const int n = std::min(d.bucket_index_deltas_size(), d.bucket_counts_size());
    int64_t index = 0;
    for (int i = 0; i < n; ++i) {
      index += d.bucket_index_deltas(i);
      fn(static_cast<int32_t>(index), d.bucket_counts(i));
    }
    return;
  }
  std::vector<std::pair<int32_t, uint64_t>> sorted(d.buckets().begin(), d.buckets().end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [index, count] : sorted) fn(index, count);
}

// The number of buckets `d` carries.
inline int DistributionBucketCount(const v1::Distribution& d) {
  return d.buckets().empty() ? d.bucket_counts_size() : d.buckets_size();
}

// Writes buckets into a distribution's arrays, in strictly ascending index
// order (the caller's to keep); a zero count is left out.
class BucketAppender {
 public:
  // Replaces the buckets `d` had.
  explicit BucketAppender(v1::Distribution* d) : d_(d) {
    d_->clear_buckets();
    d_->clear_bucket_index_deltas();
    d_->clear_bucket_counts();
  }
  void Add(int32_t index, uint64_t count) {
    if (count == 0) return;
    d_->add_bucket_index_deltas(static_cast<uint32_t>(index - last_));
    d_->add_bucket_counts(count);
    last_ = index;
  }

 private:
  v1::Distribution* const d_;
  int32_t last_ = 0;
};

// The bucket of `v` (sub_bucket_bits 7): andon_log_linear_bucket(v).
int32_t DistributionBucket(uint64_t v);
// The smallest value of bucket `i` (0 for i <= 0).
uint64_t DistributionBucketLower(int32_t i);
// One past the largest value of bucket `i`; saturates at UINT64_MAX for the
// last bucket, whose exclusive bound 2^64 does not fit.
uint64_t DistributionBucketUpper(int32_t i);

// The same for any resolution `sub_bucket_bits` in [0, 12]; the upper bound
// is inclusive here (the largest value of the bucket), so it never overflows.
int32_t LogLinearBucket(uint64_t v, uint32_t sub_bucket_bits);
uint64_t LogLinearBucketLower(int32_t i, uint32_t sub_bucket_bits);
uint64_t LogLinearBucketMax(int32_t i, uint32_t sub_bucket_bits);
// The largest valid index at `sub_bucket_bits` (7423 at 7).
int32_t LogLinearMaxBucket(uint32_t sub_bucket_bits);

// Builds one distribution from raw values, or from bucket counts read from a
// kernel histogram. Not thread-safe. Memory: 8 bytes per bucket up to the
// highest index seen (at most 58 KiB).
class DistributionBuilder {
 public:
  // Adds `count` occurrences of `value`; count, sum, min and max stay exact.
  void Add(uint64_t value, uint64_t count = 1);
  // Adds `count` values known only by their bucket (filled in the kernel with
  // andon_log_linear_bucket): the sum grows by count times the bucket's
  // midpoint, min and max by the bucket's smallest and largest value. Fails
  // with INVALID_ARGUMENT, adding nothing, for an index outside [0, 7423].
  absl::Status AddBucket(int32_t index, uint64_t count);

  uint64_t count() const { return count_; }
  // sub_bucket_bits 7, non-empty buckets only; an empty builder gives a
  // distribution with count 0 and no buckets.
  v1::Distribution ToProto() const;

 private:
  std::vector<uint64_t> buckets_;  // by index, up to the highest seen
  uint64_t count_ = 0;
  unsigned __int128 twice_sum_ = 0;  // exact; twice so that midpoints stay integers
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

// Merges `from` into `into` exactly: bucket counts, count and sum add; min
// and max combine. A distribution with count 0 is empty and changes nothing
// (two empties keep the larger sub_bucket_bits). Fails with INVALID_ARGUMENT,
// leaving `into` unchanged, when both are non-empty and their
// sub_bucket_bits differ, or when `from` is malformed (a bucket index outside
// the range of its resolution, bucket counts not adding up to its count).
absl::Status MergeDistribution(const v1::Distribution& from, v1::Distribution& into);

// Checks that `d` can be merged: sub_bucket_bits at most 12, bucket indexes
// within the range of that resolution (and, in the arrays, ascending, with
// as many counts as indexes; a value carries the map or the arrays, not
// both), bucket counts adding up to `count`. INVALID_ARGUMENT with the first
// problem otherwise.
absl::Status ValidateDistribution(const v1::Distribution& d);

// The q-quantile (q in [0, 1], clamped) with the error bound stated above;
// NaN for an empty distribution or a resolution above 12 bits.
double DistributionQuantile(const v1::Distribution& d, double q);

// The non-empty buckets of `d` coarsened to `sub_bucket_bits` (at most the
// distribution's own; 0 gives power-of-two buckets [2^e, 2^(e+1)) plus the
// value 0), as (smallest value of the bucket, count) in increasing
// order: the cells of one heatmap column. Coarse buckets never split a fine
// one, so counts are exact.
std::vector<std::pair<uint64_t, uint64_t>> DistributionCoarseBuckets(const v1::Distribution& d,
                                                                     uint32_t sub_bucket_bits);

}  // namespace andon
