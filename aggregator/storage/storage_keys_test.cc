#include "aggregator/storage/storage_keys.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

TEST(StorageKeysTest, PointKeysSortByLevelThenSeriesThenTime) {
  EXPECT_LT(PointKey(Level::k10s, 1, -5), PointKey(Level::k10s, 1, 0));
  EXPECT_LT(PointKey(Level::k10s, 1, 0), PointKey(Level::k10s, 1, 1));
  EXPECT_LT(PointKey(Level::k10s, 1, 255), PointKey(Level::k10s, 1, 256));
  EXPECT_LT(PointKey(Level::k10s, 1, INT64_MAX), PointKey(Level::k10s, 2, INT64_MIN));
  EXPECT_LT(PointKey(Level::k10s, 0xff, 0), PointKey(Level::k10s, 0x100, 0));
  EXPECT_LT(PointKey(Level::kRaw, 9, 9), PointKey(Level::k10s, 0, 0));
}

TEST(StorageKeysTest, PointKeyRoundTrips) {
  for (int64_t t : {int64_t{0}, int64_t{-1}, int64_t{1700000000000000000}, INT64_MIN, INT64_MAX}) {
    DecodedPointKey raw;
    ASSERT_TRUE(DecodePointKey(PointKey(Level::kRaw, 0xdeadbeefcafef00d, t), &raw));
    EXPECT_EQ(raw.level, Level::kRaw);
    EXPECT_EQ(raw.series_id, 0xdeadbeefcafef00d);
    EXPECT_EQ(raw.window_start_ns, t);
    EXPECT_EQ(raw.window_ns, kMaxRawWindowNs);  // a raw block spans 10 s
    DecodedPointKey hour;
    ASSERT_TRUE(DecodePointKey(PointKey(Level::k1h, 3, t), &hour));
    EXPECT_EQ(hour.level, Level::k1h);
    EXPECT_EQ(hour.window_start_ns, t);
    EXPECT_EQ(hour.window_ns, int64_t{3600} * 1000 * 1000 * 1000);
  }
  DecodedPointKey key;
  EXPECT_FALSE(DecodePointKey(SeriesKeyKey(1), &key));
  EXPECT_FALSE(DecodePointKey(LegacyPointKey(1, 2), &key));
  uint64_t id = 0;
  int64_t start = 0;
  ASSERT_TRUE(DecodeLegacyPointKey(LegacyPointKey(11, -3), &id, &start));
  EXPECT_EQ(id, 11u);
  EXPECT_EQ(start, -3);
}

TEST(StorageKeysTest, IndexKeysOfOneMetricAndLabelValueShareAPrefix) {
  // "sys" must not be a prefix match of "syscalls" entries.
  EXPECT_FALSE(MetricIndexKey("syscalls", 7).starts_with(MetricIndexPrefix("sys")));
  EXPECT_TRUE(MetricIndexKey("sys", 7).starts_with(MetricIndexPrefix("sys")));
  EXPECT_TRUE(
      LabelIndexKey("m", "host", "web-1", 7).starts_with(LabelValuePrefix("m", "host", "web-1")));
  EXPECT_FALSE(
      LabelIndexKey("m", "host", "web-10", 7).starts_with(LabelValuePrefix("m", "host", "web-1")));
  EXPECT_TRUE(LabelIndexKey("m", "host", "web-10", 7).starts_with(LabelIndexPrefix("m", "host")));
  EXPECT_FALSE(LabelIndexKey("m", "hostname", "x", 7).starts_with(LabelIndexPrefix("m", "host")));
  uint64_t id = 0;
  ASSERT_TRUE(DecodeIndexSeriesId(LabelIndexKey("m", "host", "a", 0x1234), &id));
  EXPECT_EQ(id, 0x1234u);
}

TEST(StorageKeysTest, LogKeysSortBySequence) {
  EXPECT_LT(LogKey(1), LogKey(2));
  EXPECT_LT(LogKey(255), LogKey(256));
  EXPECT_EQ(LogKey(7)[0], kLogPrefix);
}

TEST(StorageKeysTest, Uint64RoundTrips) {
  uint64_t v = 0;
  ASSERT_TRUE(DecodeUint64(EncodeUint64(0x0102030405060708), &v));
  EXPECT_EQ(v, 0x0102030405060708u);
  EXPECT_FALSE(DecodeUint64("short", &v));
}

}  // namespace
}  // namespace andon::aggregator
