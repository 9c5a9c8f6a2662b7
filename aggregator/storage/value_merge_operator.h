#pragma once

#include <memory>

#include "rocksdb/merge_operator.h"

namespace andon::aggregator {

// RocksDB merge operator for point keys: both operands are serialized
// v1::Value and combine with MergeValue (counters add, gauges combine, ...),
// so windows that arrive repeatedly or out of order merge correctly without
// a read-modify-write. Stateless and thread-safe, as RocksDB requires.
//
// A coarse window is built by merges (a 1 min window from six 10 s ones, a
// 1 h window from 360), and until a compaction folds them a read merges
// every operand: FullMergeV2 parses each operand once and, for
// distributions, adds them all in one DistributionMerger, where a pairwise
// fold would parse and serialize the growing value once per operand.
class ValueMergeOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* logger) const override;
  bool FullMergeV2(const MergeOperationInput& merge_in,
                   MergeOperationOutput* merge_out) const override;
  const char* Name() const override { return "andon.ValueMergeOperator"; }
};

}  // namespace andon::aggregator
