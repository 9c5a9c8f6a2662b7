#include "aggregator/storage/storage_keys.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

TEST(StorageKeysTest, PointKeysSortBySeriesThenTime) {
  EXPECT_LT(PointKey(1, -5), PointKey(1, 0));
  EXPECT_LT(PointKey(1, 0), PointKey(1, 1));
  EXPECT_LT(PointKey(1, 255), PointKey(1, 256));
  EXPECT_LT(PointKey(1, INT64_MAX), PointKey(2, INT64_MIN));
  EXPECT_LT(PointKey(0xff, 0), PointKey(0x100, 0));
}

TEST(StorageKeysTest, PointKeyRoundTrips) {
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{1700000000000000000}, INT64_MIN, INT64_MAX}) {
    uint64_t id = 0;
    int64_t start = 0;
    ASSERT_TRUE(DecodePointKey(PointKey(0xdeadbeefcafef00d, t), &id, &start));
    EXPECT_EQ(id, 0xdeadbeefcafef00d);
    EXPECT_EQ(start, t);
  }
  uint64_t id = 0;
  int64_t start = 0;
  EXPECT_FALSE(DecodePointKey(SeriesKeyKey(1), &id, &start));
}

TEST(StorageKeysTest, MetricIndexKeysOfOneMetricShareAPrefix) {
  // "sys" must not be a prefix match of "syscalls" entries.
  const std::string prefix = MetricIndexKey("sys", 0).substr(0, 5);
  EXPECT_NE(MetricIndexKey("syscalls", 7).substr(0, 5), prefix);
  EXPECT_EQ(MetricIndexKey("sys", 7).substr(0, 5), prefix);
}

TEST(StorageKeysTest, Uint64RoundTrips) {
  uint64_t v = 0;
  ASSERT_TRUE(DecodeUint64(EncodeUint64(0x0102030405060708), &v));
  EXPECT_EQ(v, 0x0102030405060708u);
  EXPECT_FALSE(DecodeUint64("short", &v));
}

}  // namespace
}  // namespace andon::aggregator
