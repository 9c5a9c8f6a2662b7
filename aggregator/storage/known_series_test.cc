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
    if (id >= 7) {
      EXPECT_EQ(known.Find(7, 7), KnownSeries::Found::kSame) << id;
    }
    EXPECT_LE(known.size(), 8u);
  }
  EXPECT_EQ(known.Find(3, 3), KnownSeries::Found::kUnknown);
}

TEST(KnownSeriesTest, AStampIsDueOncePerPeriodAndSurvivesAMoveToTheCurrentGeneration) {
  KnownSeries known(2);
  known.Insert(1, 100, /*stamp_due_hour=*/10);
  ASSERT_EQ(known.Find(1, 100), KnownSeries::Found::kSame);
  EXPECT_FALSE(known.StampDue(1, 9, 24));
  EXPECT_TRUE(known.StampDue(1, 10, 24));
  EXPECT_FALSE(known.StampDue(1, 33, 24));
  // Two more series push 1 into the old generation; finding it moves it
  // back with its due hour.
  known.Insert(2, 200);
  known.Insert(3, 300);
  ASSERT_EQ(known.Find(1, 100), KnownSeries::Found::kSame);
  EXPECT_FALSE(known.StampDue(1, 33, 24));
  EXPECT_TRUE(known.StampDue(1, 34, 24));
  // An unknown id is never due: its entry is written when it is found.
  EXPECT_FALSE(known.StampDue(99, 1000, 24));
}

}  // namespace
}  // namespace andon::aggregator
