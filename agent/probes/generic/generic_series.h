#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "agent/probes/generic/generic_config.h"
#include "andon/v1/types.pb.h"

struct generic_key;  // generic.h

namespace andon::agent {

// The label value "other" that series beyond the budget are folded into.
inline constexpr char kOtherLabelValue[] = "other";

// The series budget of one probe: at most `limit` distinct label sets per
// window keep their own series; the rest are folded into one "other" series.
// A label set admitted in a window stays admitted for that window, so its
// counts never split between itself and "other" within a window.
// Not thread-safe.
class SeriesBudget {
 public:
  explicit SeriesBudget(uint32_t limit) : limit_(limit) {}

  // Whether the label set `id` may be emitted as itself in the window that
  // starts at `window`. A refusal counts as one folded label set (once per
  // window).
  bool Admit(absl::Time window, const std::string& id);

  uint32_t limit() const { return limit_; }
  // Label sets folded so far, summed over windows.
  uint64_t folded() const { return folded_; }

 private:
  const uint32_t limit_;
  absl::Time window_ = absl::InfinitePast();
  absl::flat_hash_set<std::string> admitted_;
  absl::flat_hash_set<std::string> folded_now_;
  uint64_t folded_ = 0;
};

// The label value of key slot `slot` (0 or 1) in the format the plan gave it.
std::string SlotValue(const generic_key& key, int slot, SlotFormat format);

// Kernel histogram buckets (andon_log_linear_bucket indices) and the exact
// sum of their values as a v1::Value distribution: sub_bucket_bits 7, sparse
// buckets, count exact, min and max the bounds of the extreme buckets. The
// one place this probe builds distributions (common/value/distribution.h is
// to replace it).
v1::Value ToDistribution(const std::map<int32_t, uint64_t>& buckets, double sum);

}  // namespace andon::agent
