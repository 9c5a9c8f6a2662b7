#include "common/query_result.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/value/distribution.h"
#include "common/value/top_k.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecondNs = 1000 * 1000 * 1000;
constexpr int64_t kT0Ns = int64_t{1'700'000'000} * kSecondNs;

// Built-in metrics: syscalls (counter), syscall_latency_ns (distribution),
// cpu_profile (top-k).
const MetricCatalog& Catalog() {
  static const MetricCatalog catalog;
  return catalog;
}

QueryPlan Plan(const std::string& metric, const std::string& fn,
               std::vector<std::string> group_by = {"comm"}, int64_t step_s = 10,
               bool typed = false) {
  v1::QueryRequest r;
  r.set_metric(metric);
  r.mutable_start()->set_seconds(kT0Ns / kSecondNs);
  r.mutable_end()->set_seconds(kT0Ns / kSecondNs + 60);
  r.mutable_step()->set_seconds(step_s);
  for (auto& g : group_by) r.add_group_by(g);
  r.set_fn(fn);
  r.set_typed(typed);
  absl::StatusOr<QueryPlan> plan = PlanQuery(r, Catalog());
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

v1::Value Counter(uint64_t n) {
  v1::Value v;
  v.set_counter(n);
  return v;
}

v1::Value Latencies(const std::vector<uint64_t>& ns) {
  DistributionBuilder b;
  for (uint64_t x : ns) b.Add(x);
  v1::Value v;
  *v.mutable_distribution() = b.ToProto();
  return v;
}

// A window of raw input: which "aggregator" holds it, its group, time, value.
struct Input {
  int shard;
  std::string comm;
  int64_t t_ns;
  v1::Value value;
};

// The answer of one reducer holding every input, and the answer of the
// controller's path: one reducer per shard answering typed, merged by a
// reducer of the caller's plan.
std::pair<v1::QueryResponse, v1::QueryResponse> OneAndMerged(const QueryPlan& plan,
                                                             const std::vector<Input>& inputs,
                                                             int shards) {
  QueryReducer one(&plan);
  QueryPlan typed_plan = plan;
  typed_plan.typed = true;
  typed_plan.limit = 10000;
  std::vector<QueryReducer> leaves;
  for (int i = 0; i < shards; ++i) leaves.emplace_back(&typed_plan);
  for (const Input& in : inputs) {
    EXPECT_TRUE(one.Add({in.comm}, in.t_ns, in.value).ok());
    EXPECT_TRUE(leaves[in.shard].Add({in.comm}, in.t_ns, in.value).ok());
  }
  QueryReducer root(&plan);
  for (const QueryReducer& leaf : leaves) EXPECT_TRUE(root.AddTyped(leaf.Typed()).ok());
  return {one.Finish(), root.Finish()};
}

std::vector<Input> RandomLatencies(int n, int shards, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> latency(10, 2);
  std::vector<Input> out;
  for (int i = 0; i < n; ++i) {
    std::vector<uint64_t> values;
    for (int j = 0; j < 20; ++j) values.push_back(static_cast<uint64_t>(latency(rng)));
    out.push_back({static_cast<int>(rng() % shards), rng() % 3 == 0 ? "nginx" : "bash",
                   kT0Ns + static_cast<int64_t>(rng() % 60) * kSecondNs, Latencies(values)});
  }
  return out;
}

TEST(QueryReducerTest, MergedTypedAnswersEqualOneServerForEveryFunction) {
  const std::vector<Input> inputs = RandomLatencies(400, 5, 7);
  for (const std::string fn : {"", "count", "rate", "sum", "avg", "min", "max", "quantile(0.99)",
                               "quantile(0.5)", "heatmap", "topk(1)"}) {
    SCOPED_TRACE(fn);
    QueryPlan plan = Plan("syscall_latency_ns", fn);
    auto [one, merged] = OneAndMerged(plan, inputs, 5);
    EXPECT_EQ(one.SerializeAsString(), merged.SerializeAsString());
    EXPECT_GT(one.series_size(), 0);
  }
}

TEST(QueryReducerTest, QuantileOfMergedHistogramsIsWithinTheBoundOfTheExactOne) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(12, 1.5);
  std::vector<uint64_t> all;
  std::vector<Input> inputs;
  for (int host = 0; host < 50; ++host) {
    std::vector<uint64_t> values;
    for (int j = 0; j < 200; ++j) values.push_back(static_cast<uint64_t>(latency(rng)));
    all.insert(all.end(), values.begin(), values.end());
    inputs.push_back({host % 4, "nginx", kT0Ns, Latencies(values)});
  }
  std::sort(all.begin(), all.end());
  QueryPlan plan = Plan("syscall_latency_ns", "quantile(0.99)", {}, 60);
  auto [one, merged] = OneAndMerged(plan, inputs, 4);
  ASSERT_EQ(merged.series_size(), 1);
  const double exact =
      static_cast<double>(all[static_cast<size_t>(std::ceil(0.99 * all.size())) - 1]);
  EXPECT_NEAR(merged.series(0).total(), exact, exact / 256);
  EXPECT_EQ(merged.unit(), "ns");
  EXPECT_EQ(merged.fn(), "quantile(0.99)");
}

TEST(QueryReducerTest, RateIsPerSecondOfTheStep) {
  QueryPlan plan = Plan("syscalls", "rate", {}, 10);
  QueryReducer r(&plan);
  ASSERT_TRUE(r.Add({}, kT0Ns, Counter(50)).ok());
  ASSERT_TRUE(r.Add({}, kT0Ns + 3 * kSecondNs, Counter(50)).ok());
  v1::QueryResponse out = r.Finish();
  ASSERT_EQ(out.series_size(), 1);
  ASSERT_EQ(out.series(0).points_size(), 1);
  EXPECT_DOUBLE_EQ(out.series(0).points(0).value(), 10);  // 100 in a 10 s bucket
  EXPECT_DOUBLE_EQ(out.series(0).total(), 100.0 / 60);    // over the 60 s range
  EXPECT_EQ(out.unit(), "1/s");
}

TEST(QueryReducerTest, HeatmapCellsCountEveryValueOnce) {
  QueryPlan plan = Plan("syscall_latency_ns", "heatmap", {}, 60);
  QueryReducer r(&plan);
  ASSERT_TRUE(r.Add({}, kT0Ns, Latencies({1, 1000, 1100, 1'000'000})).ok());
  v1::QueryResponse out = r.Finish();
  ASSERT_EQ(out.series_size(), 1);
  const v1::SamplePoint& p = out.series(0).points(0);
  uint64_t sum = 0;
  for (const v1::HeatmapCell& c : p.cells()) {
    EXPECT_LE(c.lower(), c.upper());
    sum += c.count();
  }
  EXPECT_EQ(sum, 4u);
  EXPECT_DOUBLE_EQ(p.value(), 4);
}

TEST(QueryReducerTest, TopKOfCountersKeepsTheLargestGroups) {
  QueryPlan plan = Plan("syscalls", "topk(2)");
  QueryReducer r(&plan);
  ASSERT_TRUE(r.Add({"a"}, kT0Ns, Counter(5)).ok());
  ASSERT_TRUE(r.Add({"b"}, kT0Ns, Counter(9)).ok());
  ASSERT_TRUE(r.Add({"c"}, kT0Ns, Counter(7)).ok());
  v1::QueryResponse out = r.Finish();
  ASSERT_EQ(out.series_size(), 2);
  EXPECT_EQ(out.series(0).labels(0).value(), "b");
  EXPECT_EQ(out.series(1).labels(0).value(), "c");
  EXPECT_EQ(out.series_truncated(), 1u);
}

TEST(QueryReducerTest, TopKOfATopKMetricListsTheHeaviestKeysWithBounds) {
  std::vector<Input> inputs;
  for (int host = 0; host < 6; ++host) {
    TopKBuilder b(4);
    b.Add("main;hot", 100 + host);
    b.Add("main;warm", 10);
    for (int i = 0; i < 10; ++i) b.Add("main;cold" + std::to_string(host * 10 + i), 1);
    v1::Value v;
    *v.mutable_top_k() = b.ToProto();
    inputs.push_back({host % 3, "app", kT0Ns + host * kSecondNs, v});
  }
  QueryPlan plan = Plan("cpu_profile", "topk(2)");
  auto [one, merged] = OneAndMerged(plan, inputs, 3);
  EXPECT_EQ(one.SerializeAsString(), merged.SerializeAsString());
  ASSERT_EQ(merged.series_size(), 2);
  EXPECT_EQ(merged.series(0).labels(1).name(), "key");
  EXPECT_EQ(merged.series(0).labels(1).value(), "main;hot");
  // True count 615; the bound holds.
  EXPECT_GE(merged.series(0).total(), 615);
  EXPECT_LE(merged.series(0).total() - merged.series(0).error(), 615);
  EXPECT_GE(merged.unlisted_bound(), 1u);
}

TEST(QueryReducerTest, FunctionsThatDoNotApplyAreRefusedClearly) {
  v1::QueryRequest r;
  r.set_metric("syscalls");
  r.mutable_start()->set_seconds(1);
  r.mutable_end()->set_seconds(2);
  r.set_fn("quantile(0.99)");
  absl::StatusOr<QueryPlan> plan = PlanQuery(r, Catalog());
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("quantile(0.99) applies to distributions; syscalls is a counter"));
  r.set_fn("quantile(2)");
  r.set_metric("syscall_latency_ns");
  EXPECT_THAT(std::string(PlanQuery(r, Catalog()).status().message()), HasSubstr("[0, 1]"));
  r.set_fn("median");
  EXPECT_THAT(std::string(PlanQuery(r, Catalog()).status().message()), HasSubstr("unknown"));
  r.set_fn("topk(0)");
  EXPECT_THAT(std::string(PlanQuery(r, Catalog()).status().message()), HasSubstr("K must be"));
  r.set_fn(" Quantile( 0.5 ) ");
  absl::StatusOr<QueryPlan> ok = PlanQuery(r, Catalog());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->fn.Name(), "quantile(0.5)");
}

TEST(QueryReducerTest, TypedPointsOutsideTheRangeAreRefused) {
  QueryPlan plan = Plan("syscalls", "");
  QueryReducer r(&plan);
  v1::QueryResponse bad;
  v1::Series* s = bad.add_series();
  v1::SamplePoint* p = s->add_points();
  p->set_time_ms(kT0Ns / 1000000 + 3600 * 1000);
  *p->mutable_typed() = Counter(1);
  EXPECT_THAT(std::string(r.AddTyped(bad).message()), HasSubstr("outside the query"));
}

}  // namespace
}  // namespace andon
