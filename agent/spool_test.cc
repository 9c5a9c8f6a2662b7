#include "agent/spool.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace andon::agent {
namespace {

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/spool-XXXXXX";
  return mkdtemp(tmpl.data());
}

v1::IngestBatch Batch(uint64_t seq, size_t payload = 100) {
  v1::IngestBatch b;
  b.set_sender_id("h1");
  b.set_sequence(seq);
  b.add_points()->mutable_series()->set_metric(std::string(payload, 'm'));
  return b;
}

std::vector<uint64_t> Sequences(const std::vector<v1::IngestBatch>& batches) {
  std::vector<uint64_t> out;
  for (const auto& b : batches) out.push_back(b.sequence());
  return out;
}

TEST(SpoolTest, KeepsUnacknowledgedBatchesAcrossReopenInOrder) {
  const std::string dir = TempDir();
  {
    auto spool = Spool::Open({.dir = dir, .segment_bytes = 300});
    ASSERT_TRUE(spool.ok()) << spool.status();
    uint64_t dropped = 0;
    for (uint64_t s = 1; s <= 6; ++s) ASSERT_TRUE((*spool)->Append(Batch(s), &dropped).ok());
    (*spool)->Acknowledge(2);
    EXPECT_EQ((*spool)->unacknowledged(), 4u);
    auto after = (*spool)->ReadAfter(3, 2);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(Sequences(*after), (std::vector<uint64_t>{4, 5}));
  }
  auto spool = Spool::Open({.dir = dir, .segment_bytes = 300});
  ASSERT_TRUE(spool.ok()) << spool.status();
  auto all = (*spool)->ReadAfter(2, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Sequences(*all), (std::vector<uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ((*spool)->last_sequence(), 6u);
  uint64_t dropped = 0;
  ASSERT_TRUE((*spool)->Append(Batch(7), &dropped).ok());
  (*spool)->Acknowledge(7);
  EXPECT_EQ((*spool)->unacknowledged(), 0u);
  EXPECT_EQ((*spool)->bytes(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "acknowledged segments stay on disk";
  std::filesystem::remove_all(dir);
}

TEST(SpoolTest, PastItsBoundDropsTheOldestAndCountsThem) {
  const std::string dir = TempDir();
  auto spool = Spool::Open({.dir = dir, .max_bytes = 1000, .segment_bytes = 250});
  ASSERT_TRUE(spool.ok());
  uint64_t total_dropped = 0, through = 0;
  for (uint64_t s = 1; s <= 20; ++s) {
    uint64_t dropped = 0;
    auto t = (*spool)->Append(Batch(s), &dropped);
    ASSERT_TRUE(t.ok());
    total_dropped += dropped;
    through = std::max(through, *t);
  }
  EXPECT_LE((*spool)->bytes(), 1000u);
  EXPECT_GT(total_dropped, 0u);
  EXPECT_EQ(total_dropped + (*spool)->unacknowledged(), 20u) << "a batch neither kept nor counted";
  auto kept = (*spool)->ReadAfter(0, 100);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->front().sequence(), through + 1) << "not the oldest were dropped";
  EXPECT_EQ(kept->back().sequence(), 20u);
  std::filesystem::remove_all(dir);
}

TEST(SpoolTest, ATornRecordAtTheEndIsIgnored) {
  const std::string dir = TempDir();
  {
    auto spool = Spool::Open({.dir = dir});
    ASSERT_TRUE(spool.ok());
    uint64_t dropped = 0;
    ASSERT_TRUE((*spool)->Append(Batch(1), &dropped).ok());
    ASSERT_TRUE((*spool)->Append(Batch(2), &dropped).ok());
  }
  // A crash in the middle of the third record's write.
  std::string seg;
  for (const auto& e : std::filesystem::directory_iterator(dir)) seg = e.path().string();
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    out.write("\x40\x00\x00\x00garbage", 11);
  }
  auto spool = Spool::Open({.dir = dir});
  ASSERT_TRUE(spool.ok());
  auto all = (*spool)->ReadAfter(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Sequences(*all), (std::vector<uint64_t>{1, 2}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace andon::agent
