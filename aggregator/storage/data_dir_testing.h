#pragma once

#include <memory>
#include <string>

#include "aggregator/storage/value_merge_operator.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace andon::aggregator {

// For tests: opens an aggregator's data dir with RocksDB alone (the store
// closed), to lay down what an older version or a fault would have left, or
// to look at the keys the store wrote.
inline std::unique_ptr<rocksdb::DB> OpenDataDirRaw(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.merge_operator = std::make_shared<ValueMergeOperator>();
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(db);
}

}  // namespace andon::aggregator
