#include "common/value_merge.h"

#include <gtest/gtest.h>

#include "common/value/distribution.h"
#include "common/value/gauge.h"
#include "common/value/top_k.h"
#include "common/value/value_test_util.h"

namespace andon {
namespace {

TEST(ValueMergeTest, CountersAdd) {
  v1::Value a, b;
  a.set_counter(3);
  b.set_counter(4);
  ASSERT_TRUE(MergeValue(a, b).ok());
  EXPECT_EQ(b.counter(), 7u);
}

TEST(ValueMergeTest, EmptyTakesOther) {
  v1::Value a, b;
  a.set_counter(3);
  ASSERT_TRUE(MergeValue(a, b).ok());
  EXPECT_EQ(b.counter(), 3u);
}

TEST(ValueMergeTest, KindMismatchIsErrorAndLeavesTarget) {
  v1::Value a, b;
  a.mutable_gauge()->set_count(1);
  b.set_counter(5);
  EXPECT_EQ(MergeValue(a, b).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.counter(), 5u);
}

TEST(ValueMergeTest, GaugesCombine) {
  v1::Value a, b;
  auto* g = a.mutable_gauge();
  g->set_min(1);
  g->set_max(5);
  g->set_sum(6);
  g->set_count(2);
  auto* h = b.mutable_gauge();
  h->set_min(0.5);
  h->set_max(3);
  h->set_sum(3.5);
  h->set_count(2);
  ASSERT_TRUE(MergeValue(a, b).ok());
  EXPECT_DOUBLE_EQ(b.gauge().min(), 0.5);
  EXPECT_DOUBLE_EQ(b.gauge().max(), 5);
  EXPECT_DOUBLE_EQ(b.gauge().sum(), 9.5);
  EXPECT_EQ(b.gauge().count(), 4u);
}

TEST(ValueMergeTest, DistributionsAddBuckets) {
  v1::Value a, b;
  auto* d = a.mutable_distribution();
  d->set_sub_bucket_bits(3);
  BucketAppender(d).Add(10, 2);
  d->set_count(2);
  auto* e = b.mutable_distribution();
  e->set_sub_bucket_bits(3);
  {
    BucketAppender buckets(e);
    buckets.Add(10, 1);
    buckets.Add(12, 1);
  }
  e->set_count(2);
  ASSERT_TRUE(MergeValue(a, b).ok());
  EXPECT_EQ(value_test::BucketMap(b.distribution()).at(10), 3u);
  EXPECT_EQ(b.distribution().count(), 4u);
  a.mutable_distribution()->set_sub_bucket_bits(4);
  EXPECT_FALSE(MergeValue(a, b).ok());
}

TEST(ValueMergeTest, GaugesKeepTheLatestSample) {
  v1::Value a, b;
  *a.mutable_gauge() = GaugeOf(2, 200);
  *b.mutable_gauge() = GaugeOf(9, 100);
  ASSERT_TRUE(MergeValue(a, b).ok());
  EXPECT_EQ(b.gauge().last(), 2);
  EXPECT_EQ(b.gauge().last_time_ns(), 200);
  EXPECT_EQ(b.gauge().max(), 9);
}

TEST(ValueMergeTest, MalformedDistributionIsErrorAndLeavesTarget) {
  v1::Value a, b;
  DistributionBuilder builder;
  builder.Add(42);
  *b.mutable_distribution() = builder.ToProto();
  *a.mutable_distribution() = builder.ToProto();
  a.mutable_distribution()->set_count(5);  // buckets add up to 1
  EXPECT_EQ(MergeValue(a, b).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.distribution().count(), 1u);
}

TEST(ValueMergeTest, TopKAddsBoundsKeyByKey) {
  TopKBuilder x(2), y(2);
  x.Add("nginx", 5);
  x.Add("sshd", 1);
  y.Add("nginx", 2);
  y.Add("cron", 3);
  v1::Value a, b;
  *a.mutable_top_k() = x.ToProto();
  *b.mutable_top_k() = y.ToProto();
  ASSERT_TRUE(MergeValue(a, b).ok());
  const auto top = TopKEntries(b.top_k(), 1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].key(), "nginx");
  EXPECT_EQ(top[0].count(), 7u);
  EXPECT_EQ(top[0].error(), 0u);
  EXPECT_EQ(b.top_k().total(), 11u);
}

}  // namespace
}  // namespace andon
