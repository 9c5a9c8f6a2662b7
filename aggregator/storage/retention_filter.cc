#include "aggregator/storage/retention_filter.h"

#include "aggregator/storage/storage_keys.h"

namespace andon::aggregator {

bool RetentionFilter::Expired(absl::string_view key, const Retention& retention, int64_t now_ns) {
  DecodedPointKey point;
  if (!DecodePointKey(key, &point)) return false;
  const int64_t end_ns = point.window_start_ns + point.window_ns;
  return end_ns < now_ns - absl::ToInt64Nanoseconds(retention.For(point.level));
}

rocksdb::CompactionFilter::Decision RetentionFilter::FilterV2(
    int /*level*/, const rocksdb::Slice& key, ValueType value_type,
    const rocksdb::Slice& /*existing_value*/, std::string* /*new_value*/,
    std::string* /*skip_until*/) const {
  if (value_type != ValueType::kValue && value_type != ValueType::kMergeOperand) {
    return Decision::kKeep;
  }
  const int64_t now_ns = absl::ToUnixNanos(clock_->Now());
  return Expired(absl::string_view(key.data(), key.size()), retention_, now_ns) ? Decision::kRemove
                                                                                : Decision::kKeep;
}

}  // namespace andon::aggregator
