#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "andon/v1/types.pb.h"

namespace andon {

// Merges many distributions (say one per host, 10,000 of them) into one, in
// a flat array of counts indexed by bucket, and emits a single proto at the
// end: no protobuf map is touched per input bucket. The result is the same
// proto as folding MergeDistribution over the inputs, in order, into an
// empty distribution (and so, up to `sum` rounding beyond 2^53, as any other
// order or grouping).
//
// Not thread-safe. Memory: 8 bytes per bucket up to the highest index seen
// (58 KiB at 7 sub-bucket bits).
class DistributionMerger {
 public:
  // Adds `d`. Fails with INVALID_ARGUMENT, adding nothing, when `d` is
  // malformed (see ValidateDistribution) or non-empty with another
  // sub_bucket_bits than the non-empty distributions added before.
  absl::Status Add(const v1::Distribution& d);

  uint64_t count() const { return count_; }
  // The merged distribution; buckets with a zero count are left out.
  v1::Distribution ToProto() const;

 private:
  bool empty_ = true;  // no distribution with a non-zero count added yet
  uint32_t bits_ = 0;  // the non-empty inputs', or the largest of the empty ones
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace andon
