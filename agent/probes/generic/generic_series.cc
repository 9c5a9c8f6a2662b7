#include "agent/probes/generic/generic_series.h"

#include <linux/types.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/probes/biolatency/bucket_distribution.h"
#include "agent/probes/generic/generic.h"
#include "common/value/distribution.h"
#include "common/value/log_linear_bucket.h"

namespace andon::agent {

bool SeriesBudget::Admit(absl::Time window, const std::string& id) {
  if (window != window_) {
    window_ = window;
    admitted_.clear();
    folded_now_.clear();
  }
  if (admitted_.contains(id)) return true;
  if (admitted_.size() < limit_) {
    admitted_.insert(id);
    return true;
  }
  if (folded_now_.insert(id).second) ++folded_;
  return false;
}

std::string SlotValue(const generic_key& key, int slot, SlotFormat format) {
  switch (format) {
    case SlotFormat::kString:
      return std::string(key.str[slot], strnlen(key.str[slot], GENERIC_STR_LEN));
    case SlotFormat::kSigned:
      return absl::StrCat(static_cast<int64_t>(key.num[slot]));
    case SlotFormat::kUnsigned:
      return absl::StrCat(static_cast<uint64_t>(key.num[slot]));
    case SlotFormat::kNone:
      break;
  }
  return "";
}

v1::Value ToDistribution(const std::map<int32_t, uint64_t>& buckets, double sum) {
  v1::Value value;
  v1::Distribution* d = value.mutable_distribution();
  d->set_sub_bucket_bits(ANDON_DIST_SUB_BUCKET_BITS);
  uint64_t count = 0;
  int32_t lowest = 0;
  int32_t highest = 0;
  BucketAppender out(d);
  for (const auto& [index, n] : buckets) {  // ascending
    if (n == 0) continue;
    if (count == 0) lowest = index;
    highest = index;
    out.Add(index, n);
    count += n;
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
