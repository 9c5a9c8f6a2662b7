#pragma once

#include <memory>

#include "rocksdb/merge_operator.h"

namespace andon::aggregator {

// RocksDB merge operator for point keys: both operands are serialized
// v1::Value and combine with MergeValue (counters add, gauges combine, ...),
// so windows that arrive repeatedly or out of order merge correctly without
// a read-modify-write. Stateless and thread-safe, as RocksDB requires.
class ValueMergeOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* logger) const override;
  const char* Name() const override { return "andon.ValueMergeOperator"; }
};

}  // namespace andon::aggregator
