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
