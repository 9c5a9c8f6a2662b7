#include "agent/probes/syscalls/bucket_distribution.h"

#include <limits>

#include "common/value/log_linear_bucket.h"

namespace andon::agent {

BucketBounds LogLinearBucketBounds(int index) {
  constexpr int kBits = ANDON_DIST_SUB_BUCKET_BITS;
  if (index < (1 << kBits)) {
    const uint64_t v = index < 0 ? 0 : static_cast<uint64_t>(index);
    return {v, v};
  }
  // The inverse of andon_log_linear_bucket(): index = ((e - B + 1) << B) + sub.
  const int e = (index >> kBits) + kBits - 1;
  const uint64_t sub = static_cast<uint64_t>(index) & ((1u << kBits) - 1);
  const int shift = e - kBits;
  const uint64_t lower = ((uint64_t{1} << kBits) + sub) << shift;
  const uint64_t width = uint64_t{1} << shift;
  const uint64_t upper = lower > std::numeric_limits<uint64_t>::max() - (width - 1)
                             ? std::numeric_limits<uint64_t>::max()
                             : lower + (width - 1);
  return {lower, upper};
}

v1::Distribution DistributionFromBuckets(const std::map<int, uint64_t>& counts) {
  v1::Distribution d;
  d.set_sub_bucket_bits(ANDON_DIST_SUB_BUCKET_BITS);
  bool first = true;
  for (const auto& [index, n] : counts) {
    if (n == 0) continue;
    const BucketBounds b = LogLinearBucketBounds(index);
    (*d.mutable_buckets())[index] += n;
    d.set_count(d.count() + n);
    d.set_sum(d.sum() + static_cast<double>(n) *
                            (static_cast<double>(b.lower) + static_cast<double>(b.upper)) / 2);
    if (first) d.set_min(static_cast<double>(b.lower));
    d.set_max(static_cast<double>(b.upper));  // std::map: ascending index
    first = false;
  }
  return d;
}

}  // namespace andon::agent
