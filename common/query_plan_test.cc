#include "common/query_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon {
namespace {

using ::testing::HasSubstr;

// The catalog of built-in metrics (immutable here, so shared by the tests).
const MetricCatalog catalog;

v1::QueryRequest Valid() {
  v1::QueryRequest q;
  q.set_metric("syscalls");
  q.mutable_start()->set_seconds(1700000000);
  q.mutable_end()->set_seconds(1700000600);
  return q;
}

absl::StatusCode Code(const v1::QueryRequest& q) { return PlanQuery(q, catalog).status().code(); }

TEST(QueryPlanTest, AcceptsAPlainQuery) {
  auto info = PlanQuery(Valid(), catalog);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->metric.kind(), v1::COUNTER);
  EXPECT_EQ(info->step_ns, kDefaultStepNs);
  EXPECT_EQ(info->limit, kDefaultSeriesLimit);
}

TEST(QueryPlanTest, UnknownMetricIsNotFoundWithKnownNames) {
  v1::QueryRequest q = Valid();
  q.set_metric("bogus");
  auto r = PlanQuery(q, catalog);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("syscalls"));
}

TEST(QueryPlanTest, RejectsBadRanges) {
  v1::QueryRequest q = Valid();
  q.clear_start();
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
  q = Valid();
  q.mutable_end()->set_seconds(1700000000);
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
  q = Valid();
  q.mutable_end()->set_seconds(1700000000 + 32 * 86400);
  q.mutable_step()->set_seconds(3600);
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
  q = Valid();
  q.mutable_step()->set_seconds(-1);
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
  q = Valid();
  q.mutable_end()->set_seconds(1700000000 + 11001);  // 11001 one-second buckets
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
  q.mutable_step()->set_seconds(10);
  EXPECT_TRUE(PlanQuery(q, catalog).ok());
}

TEST(QueryPlanTest, RejectsBadRegexAndGroupBy) {
  v1::QueryRequest q = Valid();
  auto* m = q.add_matchers();
  m->set_name("comm");
  m->set_op(v1::LabelMatcher::REGEX);
  m->set_value("ngin(x");
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
  m->set_value("ngin(x)");
  EXPECT_TRUE(PlanQuery(q, catalog).ok());
  q.add_group_by("bad-name");
  EXPECT_EQ(Code(q), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace andon
