#include "aggregator/storage/rocksdb_series_store.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "aggregator/batch_validator.h"
#include "aggregator/test_batches.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

using ::andon::aggregator::testing::Batch;
using ::andon::aggregator::testing::kSecondNs;
using ::andon::aggregator::testing::kT0Ns;
using ::andon::aggregator::testing::Syscalls;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/series_store_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return pattern;
}

class RocksDbSeriesStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto opened = RocksDbSeriesStore::Open(dir_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }
  // Counts of the only series of syscalls, by window start offset in seconds.
  std::vector<std::pair<int64_t, uint64_t>> OnlySeriesCounts() {
    std::vector<SeriesRef> series = store_->SeriesOfMetric("syscalls");
    EXPECT_THAT(series, SizeIs(1));
    if (series.empty()) return {};
    auto points = store_->ReadPoints(series[0].id, 0, kT0Ns + 3600 * kSecondNs);
    EXPECT_TRUE(points.ok()) << points.status();
    std::vector<std::pair<int64_t, uint64_t>> out;
    for (const StoredPoint& p : *points) {
      out.emplace_back((p.window_start_ns - kT0Ns) / kSecondNs, p.value.counter());
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<RocksDbSeriesStore> store_;
};

using Counts = std::vector<std::pair<int64_t, uint64_t>>;

TEST_F(RocksDbSeriesStoreTest, CountersMergeAcrossBatchesAndWithinOne) {
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)})).ok());
  // Same series with labels in another order, a repeated window, and one
  // window earlier than anything stored (out of order).
  v1::Point reordered = Syscalls("h1", "nginx", "read", kT0Ns, 4);
  std::swap(*reordered.mutable_series()->mutable_labels(0),
            *reordered.mutable_series()->mutable_labels(2));
  auto result =
      store_->ApplyBatch(Batch("h1", 2,
                               {reordered, Syscalls("h1", "nginx", "read", kT0Ns + kSecondNs, 1),
                                Syscalls("h1", "nginx", "read", kT0Ns + kSecondNs, 2),
                                Syscalls("h1", "nginx", "read", kT0Ns - kSecondNs, 5)}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->duplicate);
  EXPECT_EQ(result->last_sequence, 2u);
  EXPECT_EQ(result->points_applied, 4);
  EXPECT_EQ(OnlySeriesCounts(), (Counts{{-1, 5}, {0, 7}, {1, 3}}));
}

TEST_F(RocksDbSeriesStoreTest, DuplicateSequenceIsAppliedOnce) {
  const v1::IngestBatch batch = Batch("h1", 5, {Syscalls("h1", "nginx", "read", kT0Ns, 3)});
  auto first = store_->ApplyBatch(batch);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->duplicate);
  auto again = store_->ApplyBatch(batch);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->last_sequence, 5u);
  EXPECT_EQ(again->points_applied, 0);
  auto older = store_->ApplyBatch(Batch("h1", 4, {Syscalls("h1", "nginx", "read", kT0Ns, 100)}));
  ASSERT_TRUE(older.ok());
  EXPECT_TRUE(older->duplicate);
  EXPECT_EQ(OnlySeriesCounts(), (Counts{{0, 3}}));
  // Another sender's sequence is independent.
  auto other = store_->ApplyBatch(Batch("h2", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 1)}));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->duplicate);
  EXPECT_EQ(OnlySeriesCounts(), (Counts{{0, 4}}));
}

TEST_F(RocksDbSeriesStoreTest, ReopenKeepsPointsSeriesAndSequences) {
  ASSERT_TRUE(store_
                  ->ApplyBatch(Batch("h1", 1,
                                     {Syscalls("h1", "nginx", "read", kT0Ns, 3),
                                      Syscalls("h1", "bash", "write", kT0Ns, 1)}))
                  .ok());
  ASSERT_TRUE(store_->Close().ok());
  Reopen();
  EXPECT_THAT(store_->SeriesOfMetric("syscalls"), SizeIs(2));
  auto seq = store_->LastSequence("h1");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 1u);
  auto replay = store_->ApplyBatch(Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)}));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->duplicate);
  // New points for a series known only from disk merge with the stored ones.
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 2, {Syscalls("h1", "nginx", "read", kT0Ns, 2)})).ok());
  for (const SeriesRef& ref : store_->SeriesOfMetric("syscalls")) {
    auto points = store_->ReadPoints(ref.id, kT0Ns, kT0Ns + kSecondNs);
    ASSERT_TRUE(points.ok());
    ASSERT_THAT(*points, SizeIs(1));
    const bool nginx = ref.key.labels(0).value() == "nginx";  // comm sorts first
    EXPECT_EQ((*points)[0].value.counter(), nginx ? 5u : 1u) << ref.key.DebugString();
  }
}

TEST_F(RocksDbSeriesStoreTest, ReadPointsIsHalfOpenAndPerSeries) {
  ASSERT_TRUE(store_
                  ->ApplyBatch(Batch("h1", 1,
                                     {Syscalls("h1", "nginx", "read", kT0Ns, 1),
                                      Syscalls("h1", "nginx", "read", kT0Ns + kSecondNs, 2),
                                      Syscalls("h1", "nginx", "read", kT0Ns + 2 * kSecondNs, 3),
                                      Syscalls("h2", "nginx", "read", kT0Ns, 9)}))
                  .ok());
  std::vector<SeriesRef> series = store_->SeriesOfMetric("syscalls");
  ASSERT_THAT(series, SizeIs(2));
  const SeriesRef& h1 = series[0].key.labels(1).value() == "h1" ? series[0] : series[1];
  auto points = store_->ReadPoints(h1.id, kT0Ns + kSecondNs, kT0Ns + 2 * kSecondNs);
  ASSERT_TRUE(points.ok());
  ASSERT_THAT(*points, SizeIs(1));
  EXPECT_EQ((*points)[0].window_start_ns, kT0Ns + kSecondNs);
  EXPECT_EQ((*points)[0].value.counter(), 2u);
  EXPECT_THAT(store_->SeriesOfMetric("execs"), IsEmpty());
}

TEST_F(RocksDbSeriesStoreTest, InvalidBatchLeavesStoreUnchanged) {
  FakeClock clock(absl::FromUnixNanos(kT0Ns));
  MetricCatalog catalog;
  BatchValidator validator(&clock, &catalog);
  v1::IngestBatch batch = Batch("h1", 1,
                                {Syscalls("h1", "nginx", "read", kT0Ns, 1),
                                 testing::CounterPoint("no_such_metric", {}, kT0Ns, 1)});
  // The ingest path stores a batch only after it validates.
  ASSERT_FALSE(validator.Validate(batch).ok());
  EXPECT_THAT(store_->SeriesOfMetric("syscalls"), IsEmpty());
  EXPECT_EQ(*store_->LastSequence("h1"), 0u);
  // A batch the store itself refuses writes nothing either.
  batch.set_sender_id("");
  EXPECT_FALSE(store_->ApplyBatch(batch).ok());
  EXPECT_THAT(store_->SeriesOfMetric("syscalls"), IsEmpty());
  Reopen();
  EXPECT_THAT(store_->SeriesOfMetric("syscalls"), IsEmpty());
  EXPECT_EQ(*store_->LastSequence("h1"), 0u);
}

TEST_F(RocksDbSeriesStoreTest, SecondOpenOfSameDirFailsNamingIt) {
  auto second = RocksDbSeriesStore::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("data dir " + dir_ + " is in use"));
}

TEST(RocksDbSeriesStoreOpenTest, UnwritableDirFailsNamingIt) {
  auto store = RocksDbSeriesStore::Open("/proc/andon-no-such-dir/x");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("/proc/andon-no-such-dir/x"));
}

}  // namespace
}  // namespace andon::aggregator
