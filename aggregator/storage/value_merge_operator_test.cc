#include "aggregator/storage/value_merge_operator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "aggregator/storage/storage_keys.h"
#include "andon/v1/types.pb.h"
#include "common/value/distribution.h"
#include "common/value/value_test_util.h"
#include "common/value_merge.h"
#include "rocksdb/db.h"

namespace andon::aggregator {
namespace {

class ValueMergeOperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/andon-merge-op-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    rocksdb::Options options;
    options.create_if_missing = true;
    options.merge_operator = std::make_shared<ValueMergeOperator>();
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_, &db).ok());
    db_.reset(db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MergeIn(const std::string& key, const v1::Value& v) {
    ASSERT_TRUE(db_->Merge(rocksdb::WriteOptions(), key, v.SerializeAsString()).ok());
  }
  v1::Value Read(const std::string& key) {
    std::string bytes;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), key, &bytes).ok());
    v1::Value v;
    EXPECT_TRUE(v.ParseFromString(bytes));
    return v;
  }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

// A 1 h window is 360 merges of 10 s windows: read before any compaction,
// all operands merge at once, to what merging them one by one gives.
TEST_F(ValueMergeOperatorTest, ManyDistributionOperandsMergeAsOneByOne) {
  const std::string key = PointKey(Level::k1h, 42, 3'600'000'000'000);
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> latency(std::log(1e6), 0.7);
  v1::Value expected;
  for (int w = 0; w < 360; ++w) {
    DistributionBuilder b;
    for (int i = 0; i < 50; ++i) b.Add(static_cast<uint64_t>(latency(rng)));
    v1::Value v;
    *v.mutable_distribution() = b.ToProto();
    ASSERT_TRUE(MergeValue(v, expected).ok());
    MergeIn(key, v);
    if (w == 100) {  // an existing value under the later operands
      ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
      ASSERT_TRUE(db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());
    }
  }
  const v1::Value got = Read(key);
  EXPECT_EQ(value_test::DeterministicBytes(got), value_test::DeterministicBytes(expected));
  EXPECT_EQ(got.distribution().count(), 360u * 50);
}

TEST_F(ValueMergeOperatorTest, CountersAddAndACorruptOperandIsDropped) {
  const std::string key = PointKey(Level::k1m, 7, 60'000'000'000);
  v1::Value one;
  one.set_counter(5);
  MergeIn(key, one);
  ASSERT_TRUE(db_->Merge(rocksdb::WriteOptions(), key, "\xff\xff not a value").ok());
  MergeIn(key, one);
  EXPECT_EQ(Read(key).counter(), 10u);
}

TEST_F(ValueMergeOperatorTest, AValueOfAnotherKindIsDroppedAndTheRestKept) {
  const std::string key = PointKey(Level::k10s, 9, 10'000'000'000);
  DistributionBuilder b;
  b.Add(1000);
  v1::Value d;
  *d.mutable_distribution() = b.ToProto();
  v1::Value c;
  c.set_counter(3);
  MergeIn(key, d);
  MergeIn(key, c);
  MergeIn(key, d);
  const v1::Value got = Read(key);
  ASSERT_TRUE(got.has_distribution());
  EXPECT_EQ(got.distribution().count(), 2u);
}

}  // namespace
}  // namespace andon::aggregator
