#include "agent/probes/biolatency/bucket_distribution.h"

#include "common/value/distribution.h"
#include "common/value/log_linear_bucket.h"

namespace andon::agent {

BucketBounds LogLinearBucketBounds(int32_t index) {
  constexpr int kB = ANDON_DIST_SUB_BUCKET_BITS;
  if (index < (1 << kB)) {
    const uint64_t v = index < 0 ? 0 : static_cast<uint64_t>(index);
    return {v, v};
  }
  // Inverse of andon_log_linear_bucket: index = ((e - B + 1) << B) + sub.
  const int shift = (index >> kB) - 1;  // e - B
  const uint64_t sub = static_cast<uint64_t>(index) & ((1u << kB) - 1);
  const uint64_t lower = ((uint64_t{1} << kB) + sub) << shift;
  return {lower, lower + ((uint64_t{1} << shift) - 1)};
}

v1::Value BucketsToDistribution(const BucketCounts& buckets) {
  v1::Value value;
  v1::Distribution* d = value.mutable_distribution();
  d->set_sub_bucket_bits(ANDON_DIST_SUB_BUCKET_BITS);
  uint64_t count = 0;
  double sum = 0;
  int32_t lowest = 0;
  int32_t highest = 0;
  BucketAppender out(d);
  for (const auto& [index, n] : buckets) {  // in index order
    if (n == 0) continue;
    if (count == 0) lowest = index;
    highest = index;
    const BucketBounds b = LogLinearBucketBounds(index);
    out.Add(index, n);
    count += n;
    sum += (static_cast<double>(b.lower) + static_cast<double>(b.upper)) / 2 * n;
  }
  d->set_count(count);
  d->set_sum(sum);
  if (count > 0) {
    d->set_min(static_cast<double>(LogLinearBucketBounds(lowest).lower));
    d->set_max(static_cast<double>(LogLinearBucketBounds(highest).upper));
  }
  return value;
}

}  // namespace andon::agent
