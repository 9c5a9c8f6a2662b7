#include "aggregator/storage/value_merge_operator.h"

#include "aggregator/storage/raw_block.h"
#include "aggregator/storage/storage_keys.h"
#include "andon/v1/types.pb.h"
#include "common/log.h"
#include "common/value/distribution_merger.h"
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

bool ValueMergeOperator::FullMergeV2(const MergeOperationInput& merge_in,
                                     MergeOperationOutput* merge_out) const {
  const rocksdb::Slice& key = merge_in.key;
  DecodedPointKey point;
  const bool raw = DecodePointKey(absl::string_view(key.data(), key.size()), &point) &&
                   point.level == Level::kRaw;
  std::vector<v1::Value> values;  // the existing value first, then the operands
  values.reserve(merge_in.operand_list.size() + 1);
  bool all_distributions = !raw;
  auto parse = [&](const rocksdb::Slice& bytes, const char* what) {
    v1::Value v;
    if (!v.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      ANDON_LOG(ERROR) << what << " under key " << key.ToString(/*hex=*/true)
                       << " is corrupt; dropping it";
      return;
    }
    all_distributions = all_distributions && v.has_distribution();
    values.push_back(std::move(v));
  };
  if (!raw) {
    if (merge_in.existing_value != nullptr) parse(*merge_in.existing_value, "stored value");
    for (const rocksdb::Slice& operand : merge_in.operand_list) parse(operand, "merge operand");
  }
  if (raw) {  // pairwise, as Merge() does
    std::string value =
        merge_in.existing_value == nullptr
            ? std::string()
            : std::string(merge_in.existing_value->data(), merge_in.existing_value->size());
    bool have = merge_in.existing_value != nullptr;
    for (const rocksdb::Slice& operand : merge_in.operand_list) {
      std::string next;
      rocksdb::Slice current(value);
      if (!Merge(key, have ? &current : nullptr, operand, &next, merge_in.logger)) return false;
      value = std::move(next);
      have = true;
    }
    merge_out->new_value = std::move(value);
    return true;
  }
  if (values.empty()) {  // every one corrupt
    merge_out->new_value.clear();
    return true;
  }
  if (!all_distributions) {
    // In order, each parsed once; a value that does not merge (its metric
    // changed kind) is dropped and what came before kept.
    v1::Value into = std::move(values[0]);
    for (size_t k = 1; k < values.size(); ++k) {
      if (absl::Status s = MergeValue(values[k], into); !s.ok()) {
        ANDON_LOG(ERROR) << "dropping value under key " << key.ToString(/*hex=*/true) << ": "
                         << s.message();
      }
    }
    return into.SerializeToString(&merge_out->new_value);
  }
  DistributionMerger merger;
  for (const v1::Value& v : values) {
    if (absl::Status s = merger.Add(v.distribution()); !s.ok()) {
      ANDON_LOG(ERROR) << "dropping a value under key " << key.ToString(/*hex=*/true) << ": "
                       << s.message();
    }
  }
  v1::Value out;
  *out.mutable_distribution() = merger.ToProto();
  return out.SerializeToString(&merge_out->new_value);
}

}  // namespace andon::aggregator
