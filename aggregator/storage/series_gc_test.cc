#include "aggregator/storage/series_gc.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aggregator/storage/data_dir_testing.h"
#include "aggregator/storage/rocksdb_series_store.h"
#include "aggregator/storage/storage_keys.h"
#include "aggregator/test_batches.h"
#include "common/clock.h"
#include "common/series_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace andon::aggregator {
namespace {

using ::andon::aggregator::testing::AllSeries;
using ::andon::aggregator::testing::Batch;
using ::andon::aggregator::testing::kSecondNs;
using ::andon::aggregator::testing::kT0Ns;
using ::andon::aggregator::testing::Syscalls;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every level kept at most 30 days: a series is forgotten 30 d + 1 h + 2 d
// after it was last seen.
constexpr char kRetention[] = "raw=1h,10s=3h,1m=1d,1h=30d";

class SeriesGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/series_gc_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    StoreOptions options;
    options.clock = &clock_;
    options.retention = *ParseRetention(kRetention);
    auto opened = RocksDbSeriesStore::Open(dir_, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }
  std::unique_ptr<rocksdb::DB> OpenRaw() {
    store_.reset();
    return OpenDataDirRaw(dir_);
  }
  // A batch of one point of `comm`'s reads, now, from `host`, labelled.
  absl::StatusOr<ApplyResult> Send(const std::string& host, const std::string& comm) {
    const int64_t now = absl::ToUnixNanos(clock_.Now());
    v1::IngestBatch b = Batch(host, ++sequences_[host], {Syscalls(host, comm, "read", now, 1)});
    (*b.mutable_host_labels()->mutable_labels())["role"] = "web";
    return store_->ApplyBatch(b);
  }
  std::vector<std::string> Comms() {
    std::vector<std::string> out;
    for (const SeriesRef& ref : AllSeries(*store_, "syscalls")) {
      for (const v1::Label& l : ref.key.labels()) {
        if (l.name() == "comm") out.push_back(l.value());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> Hosts() {
    std::vector<std::string> out;
    auto labels = store_->LoadHostLabels();
    EXPECT_TRUE(labels.ok()) << labels.status();
    for (const auto& [host, l] : *labels) out.push_back(host);
    return out;
  }
  // Every key of the data dir starting with `prefix` that contains `text`.
  std::vector<std::string> KeysWith(char prefix, const std::string& text) {
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
    for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) {
      if (it->key().ToString().find(text) != std::string::npos) out.push_back(it->key().ToString());
    }
    it.reset();
    db.reset();
    Reopen();
    return out;
  }

  FakeClock clock_{absl::FromUnixNanos(kT0Ns)};
  std::string dir_;
  std::unique_ptr<RocksDbSeriesStore> store_;
  std::map<std::string, uint64_t> sequences_;
};

TEST_F(SeriesGcTest, ASeriesAndASenderUnseenPastEveryRetentionAreForgottenAndOthersKept) {
  ASSERT_TRUE(Send("gone", "cron").ok());
  ASSERT_TRUE(Send("live", "nginx").ok());
  // "live" keeps sending every five days; "gone" never again. ApplyBatch
  // collects a step at a time (the series, then the senders), a pass an
  // hour.
  int64_t series = 0, senders = 0;
  std::vector<std::string> forgotten;
  for (int day = 5; day <= 35; day += 5) {
    clock_.Advance(absl::Hours(24 * 5));
    for (int i = 0; i < 3; ++i) {
      auto applied = Send("live", "nginx");
      ASSERT_TRUE(applied.ok()) << applied.status();
      series += applied->series_forgotten;
      senders += applied->senders_forgotten;
      for (const std::string& s : applied->forgotten_senders) forgotten.push_back(s);
    }
    // Not before every level of its data has expired (day 32 + 1 h).
    if (day <= 30) {
      EXPECT_THAT(Comms(), ElementsAre("cron", "nginx")) << "day " << day;
      EXPECT_EQ(series + senders, 0) << "day " << day;
    }
  }
  EXPECT_EQ(series, 1);
  EXPECT_EQ(senders, 1);
  EXPECT_THAT(forgotten, ElementsAre("gone"));
  EXPECT_THAT(Comms(), ElementsAre("nginx"));
  EXPECT_THAT(Hosts(), ElementsAre("live"));
  EXPECT_EQ(*store_->LastSequence("gone"), 0u);
  EXPECT_EQ(*store_->LastSequence("live"), sequences_["live"]);
  // Nothing of it is left: not its key, its last-seen entry, its index
  // entries, its sequence or its labels.
  EXPECT_THAT(KeysWith(kLabelIndexPrefix, "cron"), IsEmpty());
  EXPECT_THAT(KeysWith(kSequencePrefix, "gone"), IsEmpty());
  EXPECT_THAT(KeysWith(kHostLabelsPrefix, "gone"), IsEmpty());
  EXPECT_THAT(KeysWith(kLabelIndexPrefix, "live"), ::testing::SizeIs(1));
  EXPECT_THAT(KeysWith(kMetricIndexPrefix, "syscalls"), ::testing::SizeIs(1));
  std::unique_ptr<rocksdb::DB> db = OpenRaw();
  int series_keys = 0, last_seen = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    series_keys += it->key()[0] == kSeriesPrefix;
    last_seen += it->key()[0] == kLastSeenPrefix;
  }
  EXPECT_EQ(series_keys, 1);
  EXPECT_EQ(last_seen, 1);
  it.reset();
  db.reset();
  // Forgotten for good: a reopened store does not know it either, and the
  // host coming back is stored as new, its series found by label again.
  Reopen();
  EXPECT_THAT(Comms(), ElementsAre("nginx"));
  sequences_["gone"] = 0;
  ASSERT_TRUE(Send("gone", "cron").ok());
  EXPECT_THAT(Comms(), ElementsAre("cron", "nginx"));
  EXPECT_THAT(Hosts(), ElementsAre("gone", "live"));
}

TEST_F(SeriesGcTest, ASeriesSeenEveryDayIsNeverForgottenAcrossRestarts) {
  for (int day = 0; day < 70; ++day) {
    auto applied = Send("h1", "nginx");
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_EQ(applied->series_forgotten, 0) << "day " << day;
    EXPECT_EQ(applied->senders_forgotten, 0) << "day " << day;
    if (day % 9 == 0) Reopen();
    clock_.Advance(absl::Hours(24));
  }
  auto forgot = store_->ForgetExpired();
  ASSERT_TRUE(forgot.ok()) << forgot.status();
  EXPECT_EQ(forgot->series, 0);
  EXPECT_THAT(Comms(), ElementsAre("nginx"));
}

TEST_F(SeriesGcTest, ADataDirOfFormatThreeIsStampedAsSeenAtTheUpgrade) {
  ASSERT_TRUE(Send("h1", "nginx").ok());
  {
    // What format 3 left: no last-seen entries, sequences without an hour.
    std::unique_ptr<rocksdb::DB> db = OpenRaw();
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
    for (it->Seek(std::string(1, kLastSeenPrefix)); it->Valid() && it->key()[0] == kLastSeenPrefix;
         it->Next()) {
      ASSERT_TRUE(db->Delete({}, it->key()).ok());
    }
    it.reset();
    ASSERT_TRUE(db->Put({}, SequenceKey("h1"), EncodeUint64(1)).ok());
    ASSERT_TRUE(db->Put({}, kFormatKey, EncodeUint64(3)).ok());
  }
  // Upgraded 10 days later: stamped as seen then, so kept 32 days past it.
  clock_.Advance(absl::Hours(24 * 10));
  Reopen();
  EXPECT_EQ(*store_->LastSequence("h1"), 1u);
  clock_.Advance(absl::Hours(24 * 30));
  EXPECT_EQ(store_->ForgetExpired()->series, 0);
  EXPECT_THAT(Comms(), ElementsAre("nginx"));
  clock_.Advance(absl::Hours(24 * 3));
  auto forgot = store_->ForgetExpired();
  ASSERT_TRUE(forgot.ok()) << forgot.status();
  EXPECT_EQ(forgot->series, 1);
  EXPECT_EQ(forgot->senders, 1);
  EXPECT_THAT(Comms(), IsEmpty());
  store_.reset();
  std::unique_ptr<rocksdb::DB> db = OpenRaw();
  std::string version;
  ASSERT_TRUE(db->Get({}, kFormatKey, &version).ok());
  uint64_t got = 0;
  ASSERT_TRUE(DecodeUint64(version, &got));
  EXPECT_EQ(got, 4u);
}

TEST(SeriesGcCutoffTest, IsTheLongestRetentionPlusAnHourAndTwoDaysBeforeNow) {
  const int64_t now = int64_t{1000} * 3600 * kSecondNs;
  SeriesGc gc(nullptr, "dir", *ParseRetention("raw=1h,10s=3h,1m=1d,1h=30d"));
  EXPECT_EQ(gc.CutoffHour(now), 1000 - (30 * 24 + 1) - 48);
}

}  // namespace
}  // namespace andon::aggregator
