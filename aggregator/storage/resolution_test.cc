#include "aggregator/storage/resolution.h"

#include "aggregator/storage/retention_filter.h"
#include "aggregator/storage/storage_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kS = 1000 * 1000 * 1000;
constexpr int64_t kNow = int64_t{1700002800} * kS;  // on an hour boundary

TEST(RetentionTest, ParsesLevelsOverTheDefaultsAndChecksTheirOrder) {
  absl::StatusOr<Retention> r = ParseRetention("raw=90m, 1h=30d");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->raw, absl::Minutes(90));
  EXPECT_EQ(r->ten_seconds, Retention().ten_seconds);
  EXPECT_EQ(r->one_hour, absl::Hours(24 * 30));
  EXPECT_EQ(RetentionToString(*ParseRetention("")), "raw=2h,10s=2d,1m=14d,1h=400d");
  EXPECT_THAT(ParseRetention("5m=1h").status().message(), HasSubstr("unknown level '5m'"));
  EXPECT_THAT(ParseRetention("raw=soon").status().message(),
              HasSubstr("'soon' is not a positive duration"));
  EXPECT_THAT(ParseRetention("raw=3d,10s=1d").status().message(),
              HasSubstr("retention of the 10s windows (1d) must be at least"));
  EXPECT_THAT(ParseRetention("raw=10m,10s=1h,1m=2h,1h=30m").status().message(),
              HasSubstr("1h windows"));
}

TEST(ChooseLevelTest, TakesTheCoarsestLevelThatTilesTheBuckets) {
  const Retention r;
  // Five minutes at 1 s: raw.
  EXPECT_EQ(ChooseLevel(kNow - 300 * kS, kNow, kS, kNow, r).level, Level::kRaw);
  // At 10 s and 30 s steps: 10 s windows.
  EXPECT_EQ(ChooseLevel(kNow - 300 * kS, kNow, 10 * kS, kNow, r).level, Level::k10s);
  EXPECT_EQ(ChooseLevel(kNow - 300 * kS, kNow, 30 * kS, kNow, r).level, Level::k10s);
  // An hour at 1 min, a day at 1 h.
  EXPECT_EQ(ChooseLevel(kNow - 3600 * kS, kNow, 60 * kS, kNow, r).level, Level::k1m);
  EXPECT_EQ(ChooseLevel(kNow - 86400 * kS, kNow, 3600 * kS, kNow, r).level, Level::k1h);
  // A start that is off the 10 s grid needs the raw windows.
  const LevelChoice off = ChooseLevel(kNow - 305 * kS, kNow, 10 * kS, kNow, r);
  EXPECT_EQ(off.level, Level::kRaw);
  EXPECT_TRUE(off.warning.empty());
}

TEST(ChooseLevelTest, PastAFineLevelsRetentionTakesACoarserOneAndSaysSo) {
  const Retention r;  // raw 2 h
  const int64_t start = kNow - 3 * 3600 * kS;
  EXPECT_EQ(ChooseLevel(start, kNow, 10 * kS, kNow, r).level, Level::k10s);
  const LevelChoice c = ChooseLevel(start + kS, kNow, 10 * kS, kNow, r);
  EXPECT_EQ(c.level, Level::k10s);
  EXPECT_THAT(c.warning, HasSubstr("answered from 10s windows"));
  const LevelChoice gone = ChooseLevel(kNow - 500 * 86400 * kS, kNow, 3600 * kS, kNow, r);
  EXPECT_EQ(gone.level, Level::k1h);
  EXPECT_THAT(gone.warning, HasSubstr("older data is gone"));
}

TEST(RetentionFilterTest, AWindowExpiresWhenItEndedLongerAgoThanItsLevelKeepsIt) {
  const Retention r = *ParseRetention("raw=1h,10s=2h,1m=1d,1h=30d");
  const int64_t hour_ago = kNow - 3600 * kS;
  // A raw block holds 10 s: it goes when its last window is past retention.
  EXPECT_FALSE(RetentionFilter::Expired(PointKey(Level::kRaw, 1, hour_ago - 10 * kS), r, kNow));
  EXPECT_TRUE(RetentionFilter::Expired(PointKey(Level::kRaw, 1, hour_ago - 20 * kS), r, kNow));
  EXPECT_FALSE(RetentionFilter::Expired(PointKey(Level::k10s, 1, hour_ago), r, kNow));
  EXPECT_TRUE(RetentionFilter::Expired(PointKey(Level::k10s, 1, kNow - 3 * 3600 * kS), r, kNow));
  EXPECT_FALSE(RetentionFilter::Expired(SeriesKeyKey(1), r, kNow));
  EXPECT_FALSE(RetentionFilter::Expired(LegacyPointKey(1, 0), r, kNow));
}

}  // namespace
}  // namespace andon::aggregator
