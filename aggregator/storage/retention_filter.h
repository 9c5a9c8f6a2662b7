#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "aggregator/storage/resolution.h"
#include "common/clock.h"
#include "rocksdb/compaction_filter.h"

namespace andon::aggregator {

// Drops point windows past their level's retention whenever RocksDB compacts
// the files holding them (values and merge operands alike), so expired data
// is removed without a scan; the store asks for periodic compactions so that
// files nobody writes near are compacted too. Stateless apart from its
// clock; thread-safe, as RocksDB requires.
class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(Retention retention, const Clock* clock) : retention_(retention), clock_(clock) {}

  // Whether the window of point key `key` ended more than its level's
  // retention before `now_ns`. False for keys that are not point keys.
  static bool Expired(absl::string_view key, const Retention& retention, int64_t now_ns);

  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice& existing_value, std::string* new_value,
                    std::string* skip_until) const override;
  const char* Name() const override { return "andon.RetentionFilter"; }

 private:
  const Retention retention_;
  const Clock* const clock_;
};

}  // namespace andon::aggregator
