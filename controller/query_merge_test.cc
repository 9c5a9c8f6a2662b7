#include "controller/query_merge.h"

#include "common/query_result.h"
#include "common/value/distribution.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

constexpr int64_t kT0s = 1'700'000'000;
constexpr int64_t kT0Ms = kT0s * 1000;

const MetricCatalog& Catalog() {
  static const MetricCatalog catalog;
  return catalog;
}

QueryPlan Plan(const std::string& metric, const std::string& fn, uint32_t limit = 0,
               bool typed = false) {
  v1::QueryRequest r;
  r.set_metric(metric);
  r.mutable_start()->set_seconds(kT0s);
  r.mutable_end()->set_seconds(kT0s + 60);
  r.add_group_by("comm");
  r.set_fn(fn);
  r.set_limit(limit);
  r.set_typed(typed);
  return *PlanQuery(r, Catalog());
}

// A typed answer (as an aggregator gives) of (comm, second offset, value).
v1::QueryResponse Typed(const std::string& metric,
                        const std::vector<std::tuple<std::string, int, v1::Value>>& windows,
                        uint32_t truncated = 0) {
  QueryPlan plan = Plan(metric, "", 0, true);
  QueryReducer reducer(&plan);
  for (const auto& [comm, offset_s, value] : windows) {
    EXPECT_TRUE(reducer.Add({comm}, (kT0s + offset_s) * int64_t{1000000000}, value).ok());
  }
  v1::QueryResponse out = reducer.Typed();
  out.set_series_truncated(truncated);
  return out;
}

v1::Value Counter(uint64_t n) {
  v1::Value v;
  v.set_counter(n);
  return v;
}

v1::Value Latency(uint64_t ns, uint64_t times) {
  DistributionBuilder b;
  b.Add(ns, times);
  v1::Value v;
  *v.mutable_distribution() = b.ToProto();
  return v;
}

TEST(QueryMergeTest, SumsSeriesWithSameLabelsPointwise) {
  auto a = Typed("syscalls",
                 {{"nginx", 1, Counter(1)}, {"nginx", 2, Counter(2)}, {"bash", 1, Counter(1)}});
  auto b = Typed("syscalls", {{"nginx", 2, Counter(5)}, {"nginx", 3, Counter(7)}});
  auto m = MergeTypedResponses(Plan("syscalls", ""), {&a, &b});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->metric(), "syscalls");
  EXPECT_EQ(m->kind(), v1::COUNTER);
  EXPECT_EQ(m->fn(), "count");
  ASSERT_EQ(m->series_size(), 2);
  const v1::Series& nginx = m->series(0);
  EXPECT_EQ(nginx.labels(0).value(), "nginx");
  EXPECT_DOUBLE_EQ(nginx.total(), 15);
  ASSERT_EQ(nginx.points_size(), 3);
  EXPECT_EQ(nginx.points(0).time_ms(), kT0Ms + 1000);
  EXPECT_DOUBLE_EQ(nginx.points(0).value(), 1);
  EXPECT_DOUBLE_EQ(nginx.points(1).value(), 7);
  EXPECT_DOUBLE_EQ(nginx.points(2).value(), 7);
  EXPECT_FALSE(nginx.has_total_value());  // finished: numbers, not values
  EXPECT_EQ(m->series(1).labels(0).value(), "bash");
  EXPECT_EQ(m->series_truncated(), 0u);
}

TEST(QueryMergeTest, QuantileIsOfTheMergedHistogramsNotAnAverageOfQuantiles) {
  // Aggregator a: 99 calls of 1 us; b: 1 call of 1 ms. The fleet's p50 is
  // 1 us and its max 1 ms, whatever each aggregator would say alone.
  auto a = Typed("syscall_latency_ns", {{"nginx", 0, Latency(1000, 99)}});
  auto b = Typed("syscall_latency_ns", {{"nginx", 0, Latency(1'000'000, 1)}});
  auto p50 = MergeTypedResponses(Plan("syscall_latency_ns", "quantile(0.5)"), {&a, &b});
  ASSERT_TRUE(p50.ok()) << p50.status();
  EXPECT_NEAR(p50->series(0).total(), 1000, 1000.0 / 256);
  auto p100 = MergeTypedResponses(Plan("syscall_latency_ns", "quantile(1)"), {&a, &b});
  EXPECT_NEAR(p100->series(0).total(), 1'000'000, 1'000'000.0 / 256);
}

TEST(QueryMergeTest, ResortsAndReappliesLimit) {
  // Each aggregator alone ranks "x" first; merged, "y" is largest.
  auto a = Typed("syscalls", {{"x", 0, Counter(10)}, {"y", 0, Counter(8)}});
  auto b = Typed("syscalls", {{"x", 0, Counter(1)}, {"y", 0, Counter(9)}, {"z", 0, Counter(2)}},
                 /*truncated=*/3);
  auto m = MergeTypedResponses(Plan("syscalls", "", 2), {&a, &b});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->series_size(), 2);
  EXPECT_EQ(m->series(0).labels(0).value(), "y");
  EXPECT_DOUBLE_EQ(m->series(0).total(), 17);
  EXPECT_EQ(m->series(1).labels(0).value(), "x");
  EXPECT_EQ(m->series_truncated(), 1u + 3u);
}

TEST(QueryMergeTest, KindsThatDoNotMergeAreAnError) {
  auto a = Typed("syscalls", {{"x", 0, Counter(10)}});
  auto b = Typed("syscall_latency_ns", {{"x", 0, Latency(5, 1)}});
  EXPECT_FALSE(MergeTypedResponses(Plan("syscalls", ""), {&a, &b}).ok());
}

TEST(QueryMergeTest, NoResponsesGiveEmptyResult) {
  auto m = MergeTypedResponses(Plan("syscalls", "", 10), {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->series_size(), 0);
  EXPECT_EQ(m->series_truncated(), 0u);
}

}  // namespace
}  // namespace andon::controller

namespace andon::controller {
namespace {

TEST(QueryMergeTest, AnAnswerCutShortUpstreamMakesTheMergedOnePartial) {
  auto a = Typed("syscalls", {{"nginx", 0, Counter(5)}});
  auto b = Typed("syscalls", {{"nginx", 0, Counter(2)}});
  b.set_partial(true);
  b.add_warnings("the scan stopped at the limit of 5 stored windows");
  auto m = MergeTypedResponses(Plan("syscalls", ""), {&a, &b});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->partial());
  ASSERT_EQ(m->warnings_size(), 1);
  EXPECT_EQ(m->warnings(0), "the scan stopped at the limit of 5 stored windows");
  EXPECT_EQ(m->series(0).total(), 7);
  auto whole = MergeTypedResponses(Plan("syscalls", ""), {&a, &a});
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->partial());
}

}  // namespace
}  // namespace andon::controller
