#include "aggregator/storage/known_series.h"

#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

TEST(KnownSeriesTest, RemembersFingerprintsAndTellsAnotherSeriesApart) {
  KnownSeries known(10);
  EXPECT_EQ(known.Find(1, 100), KnownSeries::Found::kUnknown);
  known.Insert(1, 100);
  EXPECT_EQ(known.Find(1, 100), KnownSeries::Found::kSame);
  EXPECT_EQ(known.Find(1, 101), KnownSeries::Found::kOther);
  known.Erase(1);
  EXPECT_EQ(known.Find(1, 100), KnownSeries::Found::kUnknown);
}

TEST(KnownSeriesTest, HoldsAtMostTwoGenerationsAndKeepsWhatIsStillSeen) {
  KnownSeries known(4);
  for (uint64_t id = 0; id < 1000; ++id) {
    known.Insert(id, id);
    // Series 7 is seen all the time; it must never be forgotten.
    if (id >= 7) EXPECT_EQ(known.Find(7, 7), KnownSeries::Found::kSame) << id;
    EXPECT_LE(known.size(), 8u);
  }
  EXPECT_EQ(known.Find(3, 3), KnownSeries::Found::kUnknown);
}

}  // namespace
}  // namespace andon::aggregator
