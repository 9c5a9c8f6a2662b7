#include "agent/probes/syscalls/bucket_distribution.h"

#include <limits>

#include "common/value/distribution.h"
#include "common/value/log_linear_bucket.h"

namespace andon::agent {

v1::Distribution DistributionFromBuckets(const std::map<int, uint64_t>& counts) {
  v1::Distribution d;
  d.set_sub_bucket_bits(ANDON_DIST_SUB_BUCKET_BITS);
  bool first = true;
  BucketAppender buckets(&d);
  for (const auto& [index, n] : counts) {
    if (n == 0) continue;
    const BucketBounds b = LogLinearBucketBounds(index);
    buckets.Add(index, n);
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
