#include "aggregator/storage/rocksdb_series_store.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "aggregator/batch_validator.h"
#include "aggregator/storage/data_dir_testing.h"
#include "aggregator/storage/raw_block.h"
#include "aggregator/storage/raw_block_testing.h"
#include "aggregator/storage/storage_keys.h"
#include "aggregator/test_batches.h"
#include "common/clock.h"
#include "common/series_key.h"
#include "common/varint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace andon::aggregator {
namespace {

using ::andon::aggregator::testing::AllSeries;
using ::andon::aggregator::testing::Batch;
using ::andon::aggregator::testing::CounterPoint;
using ::andon::aggregator::testing::kSecondNs;
using ::andon::aggregator::testing::kT0Ns;
using ::andon::aggregator::testing::Syscalls;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/series_store_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return pattern;
}

using Counts = std::vector<std::pair<int64_t, uint64_t>>;

v1::LabelMatcher Matcher(const std::string& name, v1::LabelMatcher::Op op,
                         const std::string& value) {
  v1::LabelMatcher m;
  m.set_name(name);
  m.set_op(op);
  m.set_value(value);
  return m;
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
  void Reopen(StoreOptions options = {}) {
    store_.reset();
    auto opened = RocksDbSeriesStore::Open(dir_, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }
  // Empties the data dir, so that a store opened next starts its roll-up by
  // its own clock.
  void FreshDir() {
    store_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  // On a 10 s boundary: the first window a live store holds is the next.
  static constexpr int64_t kLiveT0Ns = (kT0Ns / (10 * kSecondNs)) * 10 * kSecondNs;
  // Opens a store on an empty dir whose clock is live_clock_, so that the
  // windows near kLiveT0Ns are recent to it; returns its options.
  StoreOptions OpenLive(size_t max_open_rollups = StoreOptions().max_open_rollups) {
    StoreOptions options;
    options.clock = &live_clock_;
    options.retention = *ParseRetention("raw=30d,10s=30d,1m=30d,1h=400d");
    options.max_open_rollups = max_open_rollups;
    FreshDir();
    Reopen(options);
    return options;
  }
  FakeClock live_clock_{absl::FromUnixNanos(kLiveT0Ns)};

  // Opens the data dir with RocksDB alone (the store closed), to lay down
  // what an older version or a collision would have left.
  std::unique_ptr<rocksdb::DB> OpenRaw() {
    store_.reset();
    return OpenDataDirRaw(dir_);
  }
  std::vector<std::string> Select(const std::string& metric,
                                  const std::vector<v1::LabelMatcher>& specs) {
    std::vector<LabelMatcher> matchers;
    for (const v1::LabelMatcher& spec : specs) matchers.push_back(*LabelMatcher::Compile(spec));
    auto series = store_->SelectSeries(metric, matchers);
    EXPECT_TRUE(series.ok()) << series.status();
    std::vector<std::string> out;
    for (const SeriesRef& ref : *series) out.push_back(SeriesKeyToString(ref.key));
    std::sort(out.begin(), out.end());
    return out;
  }
  // The counts of one series at `level`, by window start offset in seconds.
  Counts CountsAt(uint64_t id, Level level) {
    auto points = store_->ReadPoints(id, kT0Ns - 7200 * kSecondNs, kT0Ns + 7200 * kSecondNs, level);
    EXPECT_TRUE(points.ok()) << points.status();
    Counts out;
    for (const StoredPoint& p : *points) {
      out.emplace_back((p.window_start_ns - kT0Ns) / kSecondNs, p.value.counter());
    }
    return out;
  }
  // Counts of the only series of syscalls, by window start offset in seconds.
  Counts OnlySeriesCounts() {
    std::vector<SeriesRef> series = AllSeries(*store_, "syscalls");
    EXPECT_THAT(series, SizeIs(1));
    if (series.empty()) return {};
    auto points = store_->ReadPoints(series[0].id, 0, kT0Ns + 3600 * kSecondNs);
    EXPECT_TRUE(points.ok()) << points.status();
    Counts out;
    for (const StoredPoint& p : *points) {
      out.emplace_back((p.window_start_ns - kT0Ns) / kSecondNs, p.value.counter());
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<RocksDbSeriesStore> store_;
};

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
  EXPECT_THAT(AllSeries(*store_, "syscalls"), SizeIs(2));
  auto seq = store_->LastSequence("h1");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 1u);
  auto replay = store_->ApplyBatch(Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)}));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->duplicate);
  // New points for a series known only from disk merge with the stored ones.
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 2, {Syscalls("h1", "nginx", "read", kT0Ns, 2)})).ok());
  for (const SeriesRef& ref : AllSeries(*store_, "syscalls")) {
    auto points = store_->ReadPoints(ref.id, kT0Ns, kT0Ns + kSecondNs);
    ASSERT_TRUE(points.ok());
    ASSERT_THAT(*points, SizeIs(1));
    const bool nginx = ref.key.labels(0).value() == "nginx";  // comm sorts first
    EXPECT_EQ((*points)[0].value.counter(), nginx ? 5u : 1u) << ref.key.DebugString();
  }
}

TEST_F(RocksDbSeriesStoreTest, HostLabelsAreKeptWithTheirBatchAndSurviveAReopen) {
  auto with_role = [](uint64_t sequence, const std::string& role) {
    v1::IngestBatch b = Batch("h1", sequence, {Syscalls("h1", "nginx", "read", kT0Ns, 1)});
    (*b.mutable_host_labels()->mutable_labels())["role"] = role;
    return b;
  };
  ASSERT_TRUE(store_->ApplyBatch(with_role(2, "db")).ok());
  // An older batch replayed (a duplicate) writes nothing, its labels neither.
  auto older = store_->ApplyBatch(with_role(1, "web"));
  ASSERT_TRUE(older.ok());
  EXPECT_TRUE(older->duplicate);
  // A batch that says nothing of labels leaves them.
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 3, {Syscalls("h1", "x", "read", kT0Ns, 1)})).ok());
  ASSERT_TRUE(store_->Close().ok());
  Reopen();
  auto labels = store_->LoadHostLabels();
  ASSERT_TRUE(labels.ok()) << labels.status();
  ASSERT_EQ(labels->size(), 1u);
  EXPECT_EQ(labels->at("h1").labels().at("role"), "db");
  // The same labels again write nothing new; changed ones replace them.
  ASSERT_TRUE(store_->ApplyBatch(with_role(4, "db")).ok());
  ASSERT_TRUE(store_->ApplyBatch(with_role(5, "web")).ok());
  ASSERT_TRUE(store_->ApplyBatch(with_role(6, "web")).ok());
  labels = store_->LoadHostLabels();
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->at("h1").labels().at("role"), "web");
}

TEST_F(RocksDbSeriesStoreTest, ReadPointsIsHalfOpenAndPerSeries) {
  ASSERT_TRUE(store_
                  ->ApplyBatch(Batch("h1", 1,
                                     {Syscalls("h1", "nginx", "read", kT0Ns, 1),
                                      Syscalls("h1", "nginx", "read", kT0Ns + kSecondNs, 2),
                                      Syscalls("h1", "nginx", "read", kT0Ns + 2 * kSecondNs, 3),
                                      Syscalls("h2", "nginx", "read", kT0Ns, 9)}))
                  .ok());
  std::vector<SeriesRef> series = AllSeries(*store_, "syscalls");
  ASSERT_THAT(series, SizeIs(2));
  const SeriesRef& h1 = series[0].key.labels(1).value() == "h1" ? series[0] : series[1];
  auto points = store_->ReadPoints(h1.id, kT0Ns + kSecondNs, kT0Ns + 2 * kSecondNs);
  ASSERT_TRUE(points.ok());
  ASSERT_THAT(*points, SizeIs(1));
  EXPECT_EQ((*points)[0].window_start_ns, kT0Ns + kSecondNs);
  EXPECT_EQ((*points)[0].value.counter(), 2u);
  EXPECT_THAT(AllSeries(*store_, "execs"), IsEmpty());
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
  EXPECT_THAT(AllSeries(*store_, "syscalls"), IsEmpty());
  EXPECT_EQ(*store_->LastSequence("h1"), 0u);
  // A batch the store itself refuses writes nothing either.
  batch.set_sender_id("");
  EXPECT_FALSE(store_->ApplyBatch(batch).ok());
  EXPECT_THAT(AllSeries(*store_, "syscalls"), IsEmpty());
  Reopen();
  EXPECT_THAT(AllSeries(*store_, "syscalls"), IsEmpty());
  EXPECT_EQ(*store_->LastSequence("h1"), 0u);
}

TEST_F(RocksDbSeriesStoreTest, WindowsRollUpInto10sOneMinuteAndOneHourWindows) {
  // kT0Ns is on a minute boundary; 1 s windows at +0..+69 s and a 5 s one.
  std::vector<v1::Point> points;
  for (int i = 0; i < 70; ++i) {
    points.push_back(Syscalls("h1", "nginx", "read", kT0Ns + i * kSecondNs, 1));
  }
  points.push_back(CounterPoint("syscalls",
                                {{"host", "h1"}, {"comm", "nginx"}, {"syscall", "read"}},
                                kT0Ns + 5 * kSecondNs, 100, 5 * kSecondNs));
  auto result = store_->ApplyBatch(Batch("h1", 1, std::move(points)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->points_applied, 71);
  std::vector<SeriesRef> series = AllSeries(*store_, "syscalls");
  ASSERT_THAT(series, SizeIs(1));
  const uint64_t id = series[0].id;

  // Raw windows keep their own widths; two widths at one start stay apart.
  auto raw = store_->ReadPoints(id, kT0Ns + 5 * kSecondNs, kT0Ns + 6 * kSecondNs);
  ASSERT_TRUE(raw.ok());
  ASSERT_THAT(*raw, SizeIs(2));
  EXPECT_EQ((*raw)[0].window_ns, kSecondNs);
  EXPECT_EQ((*raw)[0].value.counter(), 1u);
  EXPECT_EQ((*raw)[1].window_ns, 5 * kSecondNs);
  EXPECT_EQ((*raw)[1].value.counter(), 100u);

  EXPECT_EQ(CountsAt(id, Level::k10s),
            (Counts{{0, 110}, {10, 10}, {20, 10}, {30, 10}, {40, 10}, {50, 10}, {60, 10}}));
  EXPECT_EQ(CountsAt(id, Level::k1m), (Counts{{0, 160}, {60, 10}}));
  // kT0Ns is 14 minutes into its hour.
  const int64_t hour_start = (kT0Ns / (3600 * kSecondNs)) * 3600 * kSecondNs;
  auto hour = store_->ReadPoints(id, hour_start, hour_start + 1, Level::k1h);
  ASSERT_TRUE(hour.ok());
  ASSERT_THAT(*hour, SizeIs(1));
  EXPECT_EQ((*hour)[0].window_ns, 3600 * kSecondNs);
  EXPECT_EQ((*hour)[0].value.counter(), 170u);
}

TEST_F(RocksDbSeriesStoreTest, SelectSeriesAnswersMatchersFromTheLabelIndex) {
  ASSERT_TRUE(store_
                  ->ApplyBatch(Batch(
                      "h1", 1,
                      {Syscalls("web-1", "nginx", "read", kT0Ns, 1),
                       Syscalls("web-2", "nginx", "write", kT0Ns, 1),
                       Syscalls("db-1", "postgres", "read", kT0Ns, 1),
                       CounterPoint("execs", {{"host", "web-1"}, {"comm", "nginx"}}, kT0Ns, 1)}))
                  .ok());
  using Op = v1::LabelMatcher;
  EXPECT_THAT(Select("syscalls", {}), SizeIs(3));
  EXPECT_THAT(Select("syscalls", {Matcher("comm", Op::EQ, "nginx")}),
              ElementsAre(HasSubstr("web-1"), HasSubstr("web-2")));
  EXPECT_THAT(Select("syscalls",
                     {Matcher("host", Op::REGEX, "web-.*"), Matcher("syscall", Op::EQ, "read")}),
              ElementsAre(HasSubstr("web-1")));
  EXPECT_THAT(Select("syscalls", {Matcher("host", Op::REGEX, "db-.*|web-2")}), SizeIs(2));
  EXPECT_THAT(Select("syscalls", {Matcher("host", Op::NEQ, "web-1")}), SizeIs(2));
  EXPECT_THAT(Select("syscalls", {Matcher("host", Op::NOT_REGEX, "web-.*")}),
              ElementsAre(HasSubstr("db-1")));
  // A label no series has: "=''" matches all, "=x" none.
  EXPECT_THAT(Select("syscalls", {Matcher("rack", Op::EQ, "")}), SizeIs(3));
  EXPECT_THAT(Select("syscalls", {Matcher("rack", Op::EQ, "r1")}), IsEmpty());
  // The index is per metric: execs' series is not a syscalls one.
  EXPECT_THAT(Select("execs", {Matcher("host", Op::EQ, "web-1")}), SizeIs(1));
  EXPECT_THAT(Select("sys", {}), IsEmpty());
  // A value that is a prefix of another selects only itself.
  EXPECT_THAT(Select("syscalls", {Matcher("host", Op::EQ, "web")}), IsEmpty());
  EXPECT_THAT(Select("syscalls", {Matcher("host", Op::REGEX, "web")}), IsEmpty());
}

TEST_F(RocksDbSeriesStoreTest, ASeriesWhoseIdIsTakenIsLeftOutAndCounted) {
  // Lay down another series under the id that nginx's series would have.
  v1::SeriesKey victim = Syscalls("h1", "nginx", "read", kT0Ns, 1).series();
  CanonicalizeSeriesKey(victim);
  v1::SeriesKey squatter = Syscalls("h9", "other", "open", kT0Ns, 1).series();
  CanonicalizeSeriesKey(squatter);
  {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    ASSERT_TRUE(db->Put({}, SeriesKeyKey(SeriesId(victim)), squatter.SerializeAsString()).ok());
    ASSERT_TRUE(db->Put({}, kFormatKey, EncodeUint64(kFormatVersion)).ok());
  }
  Reopen();
  for (uint64_t seq : {1, 2}) {  // the second time from the known-series memory
    auto result = store_->ApplyBatch(Batch(
        "h1", seq,
        {Syscalls("h1", "nginx", "read", kT0Ns, 1), Syscalls("h1", "bash", "read", kT0Ns, 1)}));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->points_applied, 1);
    EXPECT_EQ(result->points_collided, 1);
  }
  auto points = store_->ReadPoints(SeriesId(victim), 0, INT64_MAX);
  ASSERT_TRUE(points.ok());
  EXPECT_THAT(*points, IsEmpty());
}

TEST_F(RocksDbSeriesStoreTest, ADataDirOfFormatOneIsUpgradedOnceWithNothingLost) {
  v1::SeriesKey key = Syscalls("h1", "nginx", "read", kT0Ns, 1).series();
  CanonicalizeSeriesKey(key);
  const uint64_t id = SeriesId(key);
  {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    ASSERT_TRUE(db->Delete({}, kFormatKey).ok());
    ASSERT_TRUE(db->Put({}, SeriesKeyKey(id), key.SerializeAsString()).ok());
    ASSERT_TRUE(db->Put({}, MetricIndexKey("syscalls", id), "").ok());
    v1::Value value;
    for (int i = 0; i < 12; ++i) {
      value.set_counter(static_cast<uint64_t>(i + 1));
      ASSERT_TRUE(
          db->Put({}, LegacyPointKey(id, kT0Ns + i * kSecondNs), value.SerializeAsString()).ok());
    }
    ASSERT_TRUE(db->Put({}, SequenceKey("h1"), EncodeUint64(7)).ok());
  }
  for (int open = 0; open < 2; ++open) {
    Reopen();
    EXPECT_EQ(CountsAt(id, Level::k10s), (Counts{{0, 55}, {10, 23}})) << "open " << open;
    EXPECT_THAT(CountsAt(id, Level::kRaw), SizeIs(12));
    EXPECT_EQ(Select("syscalls", {Matcher("comm", v1::LabelMatcher::EQ, "nginx")}).size(), 1u);
    EXPECT_EQ(*store_->LastSequence("h1"), 7u);
  }
  std::unique_ptr<rocksdb::DB> db = OpenRaw();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
  it->Seek(std::string(1, kLegacyPointPrefix));
  EXPECT_TRUE(!it->Valid() || it->key()[0] != kLegacyPointPrefix) << "old keys are left";
}

TEST_F(RocksDbSeriesStoreTest, ANewerFormatIsRefusedNamingIt) {
  {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    ASSERT_TRUE(db->Put({}, kFormatKey, EncodeUint64(kFormatVersion + 1)).ok());
  }
  auto opened = RocksDbSeriesStore::Open(dir_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("written by a newer andon-aggregator"));
}

TEST_F(RocksDbSeriesStoreTest, AFormatTwoDataDirKeepsItsBlocksAndBecomesFormatThree) {
  // A format-2 block of counters, written before counter columns existed.
  const std::string rows = CounterBlockInRows(41);
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 1, {Syscalls("h1", "x", "read", kT0Ns, 1)})).ok());
  const uint64_t id = AllSeries(*store_, "syscalls").at(0).id;
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    ASSERT_TRUE(db->Put({}, kFormatKey, EncodeUint64(2)).ok());
    ASSERT_TRUE(db->Put({}, PointKey(Level::kRaw, id, kT0Ns - 10 * kSecondNs), rows).ok());
  }
  Reopen();
  auto points = store_->ReadPoints(id, kT0Ns - 10 * kSecondNs, kT0Ns);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_THAT(*points, SizeIs(1));
  EXPECT_EQ((*points)[0].value.counter(), 41u);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  std::unique_ptr<rocksdb::DB> db = OpenRaw();
  std::string version;
  ASSERT_TRUE(db->Get({}, kFormatKey, &version).ok());
  uint64_t got = 0;
  ASSERT_TRUE(DecodeUint64(version, &got));
  EXPECT_EQ(got, kFormatVersion);
}

TEST_F(RocksDbSeriesStoreTest, CompactionDropsEachLevelPastItsRetention) {
  FakeClock clock(absl::FromUnixNanos(kT0Ns));
  StoreOptions options;
  options.clock = &clock;
  options.retention = *ParseRetention("raw=1h,10s=3h,1m=1d,1h=30d");
  Reopen(options);
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 4)})).ok());
  const uint64_t id = AllSeries(*store_, "syscalls")[0].id;
  auto levels_left = [&] {
    std::vector<std::string> out;
    for (Level level : kLevels) {
      auto points = store_->ReadPoints(id, kT0Ns - 3600 * kSecondNs, kT0Ns + kSecondNs, level);
      if (points.ok() && !points->empty()) out.push_back(LevelName(level));
    }
    return out;
  };
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_THAT(levels_left(), ElementsAre("raw", "10s", "1m", "1h"));
  clock.Advance(absl::Hours(2));
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_THAT(levels_left(), ElementsAre("10s", "1m", "1h"));
  clock.Advance(absl::Hours(2));
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_THAT(levels_left(), ElementsAre("1m", "1h"));
  clock.Advance(absl::Hours(24 * 40));
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_THAT(levels_left(), IsEmpty());
  // The series and the sender's sequence are kept.
  EXPECT_THAT(AllSeries(*store_, "syscalls"), SizeIs(1));
  EXPECT_EQ(*store_->LastSequence("h1"), 1u);
}

TEST_F(RocksDbSeriesStoreTest, OpenWindowsAreRolledUpOnceWhenDueAndAfterARestart) {
  const int64_t t = kLiveT0Ns;
  FakeClock& clock = live_clock_;
  const StoreOptions options = OpenLive();
  EXPECT_EQ(store_->rolled_up_until_ns(), t + 10 * kSecondNs);
  auto window = [&](int64_t s, uint64_t n) {
    return Syscalls("h1", "nginx", "read", t + s * kSecondNs, n);
  };
  uint64_t seq = 0;
  int64_t late = 0;
  auto apply = [&](std::vector<v1::Point> points) {
    auto r = store_->ApplyBatch(Batch("h1", ++seq, std::move(points)));
    ASSERT_TRUE(r.ok()) << r.status();
    late += r->points_late;
  };
  // Windows of 10..29 s: open, so only raw windows exist yet.
  apply({window(10, 1), window(11, 2), window(25, 4)});
  const uint64_t id = AllSeries(*store_, "syscalls")[0].id;
  auto tens = [&] {
    auto points = store_->ReadPoints(id, t, t + 600 * kSecondNs, Level::k10s);
    Counts out;
    for (const StoredPoint& p : *points)
      out.emplace_back((p.window_start_ns - t) / kSecondNs, p.value.counter());
    return out;
  };
  EXPECT_THAT(tens(), IsEmpty());
  EXPECT_THAT(*store_->ReadPoints(id, t, t + 600 * kSecondNs), SizeIs(3));
  EXPECT_EQ(store_->Stats().open_windows, 2);
  EXPECT_EQ(store_->Stats().logged_batches, 1);
  // 25 s later the 10 s and 20 s windows are due (5 s after they end).
  clock.Advance(absl::Seconds(35));
  apply({window(31, 8)});
  EXPECT_EQ(store_->rolled_up_until_ns(), t + 30 * kSecondNs);
  EXPECT_EQ(tens(), (Counts{{10, 3}, {20, 4}}));
  // Only the batch holding the 30 s window is still logged.
  EXPECT_EQ(store_->Stats().open_windows, 1);
  EXPECT_EQ(store_->Stats().logged_batches, 1);
  // A late window for a rolled-up 10 s window goes straight in.
  EXPECT_EQ(late, 0);
  apply({window(12, 16), window(34, 1)});
  EXPECT_EQ(tens(), (Counts{{10, 19}, {20, 4}}));
  EXPECT_EQ(late, 1);  // the 12 s window; the 34 s one is still open
  // A restart with the 30 s window open rebuilds it from the raw windows.
  Reopen(options);
  EXPECT_EQ(store_->rolled_up_until_ns(), t + 30 * kSecondNs);
  apply({window(33, 32)});
  clock.Advance(absl::Seconds(10));
  ASSERT_TRUE(store_->RollUpBefore(t + 40 * kSecondNs).ok());
  EXPECT_EQ(tens(), (Counts{{10, 19}, {20, 4}, {30, 41}}));
  auto minute = store_->ReadPoints(id, t, t + 600 * kSecondNs, Level::k1m);
  ASSERT_TRUE(minute.ok());
  uint64_t minute_total = 0;
  for (const StoredPoint& p : *minute) minute_total += p.value.counter();
  EXPECT_EQ(minute_total, 64u);
  // Every logged batch is rolled up now: the log is empty.
  std::unique_ptr<rocksdb::DB> db = OpenRaw();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
  it->Seek(std::string(1, kLogPrefix));
  EXPECT_TRUE(!it->Valid() || it->key()[0] != kLogPrefix) << "logged batches are left";
}

// A sender whose clock runs minutes fast sends windows far ahead: they stay
// open until their time, but the log of every later batch is still trimmed
// as its windows roll up, and the far window survives a restart and is
// counted once.
TEST_F(RocksDbSeriesStoreTest, AWindowFarAheadDoesNotHoldTheLogOfLaterBatches) {
  const int64_t t = kLiveT0Ns;
  FakeClock& clock = live_clock_;
  const StoreOptions options = OpenLive();
  uint64_t seq = 0;
  auto apply = [&](std::vector<v1::Point> points) {
    auto r = store_->ApplyBatch(Batch("h1", ++seq, std::move(points)));
    ASSERT_TRUE(r.ok()) << r.status();
  };
  // 5 min ahead, and a window of now in the same batch.
  apply({Syscalls("h1", "fast", "read", t + 300 * kSecondNs, 7),
         Syscalls("h1", "nginx", "read", t + 10 * kSecondNs, 1)});
  // Two minutes of batches, one a second, each rolled up as it falls due.
  for (int s = 11; s < 130; ++s) {
    clock.Advance(absl::Seconds(1));
    apply({Syscalls("h1", "nginx", "read", t + s * kSecondNs, 1)});
  }
  // The log holds the last 10-20 s of batches and the far window's record,
  // not two minutes of them.
  EXPECT_LE(store_->Stats().logged_batches, 22);
  // A restart rebuilds the far window from the log.
  Reopen(options);
  clock.Advance(absl::Seconds(200));
  ASSERT_TRUE(store_->RollUpBefore(t + 320 * kSecondNs).ok());
  std::vector<SeriesRef> fast;
  for (const SeriesRef& s : AllSeries(*store_, "syscalls")) {
    for (const v1::Label& l : s.key.labels()) {
      if (l.value() == "fast") fast.push_back(s);
    }
  }
  ASSERT_THAT(fast, SizeIs(1));
  auto points = store_->ReadPoints(fast[0].id, t, t + 600 * kSecondNs, Level::k10s);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_THAT(*points, SizeIs(1));
  EXPECT_EQ((*points)[0].window_start_ns, t + 300 * kSecondNs);
  EXPECT_EQ((*points)[0].value.counter(), 7u);
}

TEST_F(RocksDbSeriesStoreTest, ABatchLoggedWholeByAnOlderVersionIsRolledUpAfterTheUpgrade) {
  const int64_t t = kLiveT0Ns;
  const StoreOptions options = OpenLive();
  // Older versions logged the whole batch while its windows were open.
  {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    v1::IngestBatch old = Batch("h1", 1,
                                {Syscalls("h1", "nginx", "read", t + 10 * kSecondNs, 5),
                                 Syscalls("h1", "nginx", "read", t + 12 * kSecondNs, 6)});
    ASSERT_TRUE(db->Put({}, LogKey(0), old.SerializeAsString()).ok());
    ASSERT_TRUE(db->Put({}, SequenceKey("h1"), EncodeUint64(1)).ok());
  }
  Reopen(options);
  EXPECT_EQ(store_->Stats().open_windows, 1);
  // A new batch is logged in the compact form beside it.
  ASSERT_TRUE(
      store_->ApplyBatch(Batch("h1", 2, {Syscalls("h1", "nginx", "read", t + 15 * kSecondNs, 7)}))
          .ok());
  Reopen(options);
  EXPECT_EQ(store_->Stats().logged_batches, 2);
  live_clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(store_->RollUpBefore(t + 20 * kSecondNs).ok());
  const uint64_t id = AllSeries(*store_, "syscalls")[0].id;
  auto tens = store_->ReadPoints(id, t, t + 600 * kSecondNs, Level::k10s);
  ASSERT_TRUE(tens.ok()) << tens.status();
  ASSERT_THAT(*tens, SizeIs(1));
  EXPECT_EQ((*tens)[0].value.counter(), 18u);
  EXPECT_EQ(store_->Stats().logged_batches, 0);
}

TEST_F(RocksDbSeriesStoreTest, PastItsBoundTheRollupBufferRollsUpTheOldestWindowsEarly) {
  const int64_t t = kLiveT0Ns;
  OpenLive(/*max_open_rollups=*/2);
  std::vector<v1::Point> points;
  for (int s = 10; s < 60; s += 10)
    points.push_back(Syscalls("h1", "a", "read", t + s * kSecondNs, 1));
  ASSERT_TRUE(store_->ApplyBatch(Batch("h1", 1, std::move(points))).ok());
  // Five open windows, two allowed: the three oldest are rolled up.
  EXPECT_EQ(store_->rolled_up_until_ns(), t + 40 * kSecondNs);
  const uint64_t id = AllSeries(*store_, "syscalls")[0].id;
  EXPECT_THAT(*store_->ReadPoints(id, t, t + 600 * kSecondNs, Level::k10s), SizeIs(3));
}

TEST_F(RocksDbSeriesStoreTest, ARollupCutOffMidWindowResumesWithoutLosingOrDoublingAnything) {
  const int64_t t = kLiveT0Ns;
  const StoreOptions options = OpenLive();
  const int64_t w = t + 10 * kSecondNs;  // the first window held for roll-up
  ASSERT_TRUE(store_
                  ->ApplyBatch(Batch("h1", 1,
                                     {Syscalls("h1", "a", "read", w + kSecondNs, 1),
                                      Syscalls("h1", "b", "read", w + kSecondNs, 2)}))
                  .ok());
  std::vector<SeriesRef> series = AllSeries(*store_, "syscalls");
  ASSERT_THAT(series, SizeIs(2));
  // In id order: the lower id is rolled up first.
  const uint64_t low = series[0].id;
  const uint64_t high = series[1].id;
  const std::string low_comm(LabelValue(series[0].key, "comm"));
  const uint64_t low_count = low_comm == "a" ? 1 : 2;
  const uint64_t high_count = 3 - low_count;
  // What a roll-up killed after its first chunk leaves: the lower id's
  // window written, the progress saved, the cursor not moved.
  {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    v1::Value v;
    v.set_counter(low_count);
    RawWindow raw{w + kSecondNs, kSecondNs, v};
    ASSERT_TRUE(db->Put({}, PointKey(Level::kRaw, low, w), EncodeRawBlock(w, {raw})).ok());
    ASSERT_TRUE(db->Put({}, PointKey(Level::k10s, low, w), v.SerializeAsString()).ok());
    std::string progress = EncodeUint64(static_cast<uint64_t>(w) ^ (uint64_t{1} << 63));
    progress += EncodeUint64(low);
    ASSERT_TRUE(db->Put({}, kRollupProgressKey, progress).ok());
  }
  Reopen(options);
  EXPECT_EQ(store_->Stats().open_windows, 1);  // only the higher id is held again
  // A window arriving now for the lower id, in the window cut off.
  ASSERT_TRUE(
      store_->ApplyBatch(Batch("h2", 1, {Syscalls("h1", low_comm, "read", w + 2 * kSecondNs, 10)}))
          .ok());
  ASSERT_TRUE(store_->RollUpBefore(w + 10 * kSecondNs).ok());
  auto total = [&](uint64_t id, Level level) {
    uint64_t sum = 0;
    auto points = store_->ReadPoints(id, t, t + 600 * kSecondNs, level);
    for (const StoredPoint& p : *points) sum += p.value.counter();
    return sum;
  };
  EXPECT_EQ(total(low, Level::kRaw), low_count + 10);
  EXPECT_EQ(total(low, Level::k10s), low_count + 10);
  EXPECT_EQ(total(high, Level::kRaw), high_count);
  EXPECT_EQ(total(high, Level::k10s), high_count);
  EXPECT_THAT(*store_->ReadPoints(low, t, t + 600 * kSecondNs), SizeIs(2));
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
