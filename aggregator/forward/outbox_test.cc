#include "aggregator/forward/outbox.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/outbox-XXXXXX";
  return mkdtemp(tmpl.data());
}

v1::IngestBatch BatchOf(const std::string& metric) {
  v1::IngestBatch b;
  b.set_sender_id("leaf-1");
  b.add_points()->mutable_series()->set_metric(metric);
  return b;
}

TEST(OutboxTest, KeepsBatchesInOrderWithTheCursorAcrossReopen) {
  const std::string dir = TempDir();
  uint64_t first = 0;
  {
    auto box = Outbox::Open(dir, 100);
    ASSERT_TRUE(box.ok()) << box.status();
    ASSERT_TRUE((*box)->Append({BatchOf("a"), BatchOf("b")}, 1000).ok());
    ASSERT_TRUE((*box)->Append({BatchOf("c")}, 500).ok());  // the cursor never goes back
    EXPECT_EQ((*box)->cursor(), 1000);
    auto all = (*box)->Oldest(10);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 3u);
    first = (*all)[0].sequence();
    EXPECT_EQ((*all)[1].sequence(), first + 1);
    EXPECT_EQ((*all)[2].points(0).series().metric(), "c");
    ASSERT_TRUE((*box)->Acknowledge(first).ok());
    EXPECT_EQ((*box)->size(), 2u);
  }
  auto box = Outbox::Open(dir, 100);
  ASSERT_TRUE(box.ok()) << box.status();
  EXPECT_EQ((*box)->cursor(), 1000);
  EXPECT_EQ((*box)->size(), 2u);
  auto rest = (*box)->Oldest(1);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].sequence(), first + 1);
  ASSERT_TRUE((*box)->Append({BatchOf("d")}, 2000).ok());
  auto all = (*box)->Oldest(10);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->back().sequence(), first + 3);  // sequences continue after a reopen
  std::filesystem::remove_all(dir);
}

TEST(OutboxTest, DropsTheOldestPastItsBoundAndCountsThem) {
  const std::string dir = TempDir();
  auto box = Outbox::Open(dir, 2);
  ASSERT_TRUE(box.ok());
  ASSERT_TRUE((*box)->Append({BatchOf("a"), BatchOf("b"), BatchOf("c")}, 1).ok());
  EXPECT_EQ((*box)->size(), 2u);
  EXPECT_EQ((*box)->dropped(), 1u);
  auto all = (*box)->Oldest(10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].points(0).series().metric(), "b");
  std::filesystem::remove_all(dir);
}

TEST(OutboxTest, LateRecordsLastAcrossReopenUntilAnAppendFoldsThem) {
  const std::string dir = TempDir();
  {
    auto box = Outbox::Open(dir, 100);
    ASSERT_TRUE(box.ok());
    EXPECT_EQ((*box)->last_late(), 0u);
    ASSERT_TRUE((*box)->AppendLate(BatchOf("late-a")).ok());
    ASSERT_TRUE((*box)->AppendLate(BatchOf("late-b")).ok());
    EXPECT_EQ((*box)->last_late(), 2u);
  }
  auto box = Outbox::Open(dir, 100);
  ASSERT_TRUE(box.ok());
  EXPECT_EQ((*box)->last_late(), 2u);
  auto late = (*box)->LateRecords();
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 2u);
  EXPECT_EQ((*late)[1].points(0).series().metric(), "late-b");
  // A record kept after the fold's snapshot stays for the next one.
  ASSERT_TRUE((*box)->AppendLate(BatchOf("late-c")).ok());
  ASSERT_TRUE((*box)->Append({BatchOf("a+b")}, 10, /*late_through=*/2).ok());
  EXPECT_EQ((*box)->size(), 1u);  // late records are not batches
  late = (*box)->LateRecords();
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 1u);
  EXPECT_EQ((*late)[0].points(0).series().metric(), "late-c");
  EXPECT_EQ((*box)->last_late(), 3u);
  ASSERT_TRUE((*box)->Append({}, 0, /*late_through=*/3).ok());
  EXPECT_EQ((*box)->last_late(), 0u);
  EXPECT_TRUE((*box)->LateRecords()->empty());
  box->reset();
  // Numbers go on after a reopen with none held.
  box = Outbox::Open(dir, 100);
  ASSERT_TRUE(box.ok());
  EXPECT_EQ((*box)->last_late(), 0u);
  ASSERT_TRUE((*box)->AppendLate(BatchOf("late-d")).ok());
  EXPECT_TRUE((*box)->LateRecords().ok());
  EXPECT_EQ((*box)->LateRecords()->size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(OutboxTest, KeepsTheRules) {
  const std::string dir = TempDir();
  {
    auto box = Outbox::Open(dir, 2);
    ASSERT_TRUE(box.ok());
    v1::ForwardRule r;
    r.set_metric("syscalls");
    r.add_keep_labels("syscall");
    ASSERT_TRUE((*box)->PutRules({r}).ok());
  }
  auto box = Outbox::Open(dir, 2);
  ASSERT_TRUE(box.ok());
  auto rules = (*box)->Rules();
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].keep_labels(0), "syscall");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace andon::aggregator
