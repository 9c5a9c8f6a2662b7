#include "aggregator/storage/value_merge_operator.h"

#include "aggregator/storage/raw_block.h"
#include "aggregator/storage/storage_keys.h"
#include "andon/v1/types.pb.h"
#include "common/log.h"
#include "common/value_merge.h"

namespace andon::aggregator {

namespace {

// Raw blocks (the raw level's values) merge window by window.
bool MergeRawBlocks(const rocksdb::Slice& key, int64_t block_start_ns,
                    const rocksdb::Slice* existing_value, const rocksdb::Slice& value,
                    std::string* new_value) {
  std::vector<RawWindow> windows;
  if (existing_value != nullptr &&
      !DecodeRawBlock(block_start_ns,
                      absl::string_view(existing_value->data(), existing_value->size()), &windows)
           .ok()) {
    ANDON_LOG(ERROR) << "stored raw block under key " << key.ToString(/*hex=*/true)
                     << " is corrupt; replacing it";
    windows.clear();
  }
  std::vector<RawWindow> more;
  if (!DecodeRawBlock(block_start_ns, absl::string_view(value.data(), value.size()), &more).ok()) {
    ANDON_LOG(ERROR) << "raw block operand under key " << key.ToString(/*hex=*/true)
                     << " is corrupt; dropping it";
    more.clear();
  }
  for (RawWindow& w : more) {
    if (absl::Status s = AddRawWindow(windows, std::move(w)); !s.ok()) {
      ANDON_LOG(ERROR) << "dropping a raw window under key " << key.ToString(/*hex=*/true) << ": "
                       << s.message();
    }
  }
  *new_value = EncodeRawBlock(block_start_ns, windows);
  return true;
}

}  // namespace

bool ValueMergeOperator::Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
                               const rocksdb::Slice& value, std::string* new_value,
                               rocksdb::Logger* logger) const {
  DecodedPointKey point;
  if (DecodePointKey(absl::string_view(key.data(), key.size()), &point) &&
      point.level == Level::kRaw) {
    return MergeRawBlocks(key, point.window_start_ns, existing_value, value, new_value);
  }
  v1::Value into;
  if (existing_value != nullptr &&
      !into.ParseFromArray(existing_value->data(), static_cast<int>(existing_value->size()))) {
    // Returning false would make every later read of this key fail; the
    // newer operand is the best value left.
    ANDON_LOG(ERROR) << "stored value under key " << key.ToString(/*hex=*/true)
                     << " is corrupt; replacing it";
    new_value->assign(value.data(), value.size());
    return true;
  }
  v1::Value from;
  if (!from.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    ANDON_LOG(ERROR) << "merge operand under key " << key.ToString(/*hex=*/true)
                     << " is corrupt; dropping it";
    if (existing_value != nullptr)
      new_value->assign(existing_value->data(), existing_value->size());
    return true;
  }
  absl::Status s = MergeValue(from, into);
  if (!s.ok()) {
    // Kinds are checked against the catalog before writing, so this means
    // the catalog changed a metric's kind; keep what is stored.
    ANDON_LOG(ERROR) << "dropping value under key " << key.ToString(/*hex=*/true) << ": "
                     << s.message();
  }
  return into.SerializeToString(new_value);
}

}  // namespace andon::aggregator
