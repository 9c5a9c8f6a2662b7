#pragma once

#include <cstdint>
#include <map>

#include "andon/v1/types.pb.h"

namespace andon::agent {

// Bucket counts of a log-linear histogram filled in the kernel with
// andon_log_linear_bucket() (common/value/log_linear_bucket.h), by index.
using BucketCounts = std::map<int32_t, uint64_t>;

// The inclusive value range [lower, upper] of bucket `index`.
struct BucketBounds {
  uint64_t lower = 0;
  uint64_t upper = 0;
};
BucketBounds LogLinearBucketBounds(int32_t index);

// The kernel's buckets as a v1::Value distribution (sub_bucket_bits 7,
// sparse buckets): count exact; sum from bucket midpoints; min and max the
// bounds of the lowest and highest bucket. The single place where probes
// build distributions: to be replaced by common/value/distribution.h.
v1::Value BucketsToDistribution(const BucketCounts& buckets);

}  // namespace andon::agent
