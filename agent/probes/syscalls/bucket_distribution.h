#pragma once

#include <cstdint>
#include <map>

#include "agent/probes/biolatency/bucket_distribution.h"  // BucketBounds, LogLinearBucketBounds
#include "andon/v1/types.pb.h"

namespace andon::agent {

// A distribution from per-bucket counts, as BPF programs histogram in the
// kernel: count and buckets are exact; min and max are the outer bounds of
// the lowest and highest bucket, sum assumes each value at its bucket's
// midpoint (within 0.4 % for values >= 128). Zero counts are skipped.
// Kept in one place so that it can move onto the shared distribution helpers
// of common/value/ once they exist.
v1::Distribution DistributionFromBuckets(const std::map<int, uint64_t>& counts);

}  // namespace andon::agent
