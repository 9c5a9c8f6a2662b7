#include "aggregator/storage/value_merge_operator.h"

#include "andon/v1/types.pb.h"
#include "common/log.h"
#include "common/value_merge.h"

namespace andon::aggregator {

bool ValueMergeOperator::Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
                               const rocksdb::Slice& value, std::string* new_value,
                               rocksdb::Logger* logger) const {
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
