#include "controller/query_merge.h"

#include "gtest/gtest.h"

namespace andon::controller {
namespace {

v1::Series MakeSeries(std::vector<std::pair<std::string, std::string>> labels,
                      std::vector<std::pair<int64_t, double>> points) {
  v1::Series s;
  for (const auto& [n, v] : labels) {
    v1::Label* l = s.add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  double total = 0;
  for (const auto& [t, v] : points) {
    v1::SamplePoint* p = s.add_points();
    p->set_time_ms(t);
    p->set_value(v);
    total += v;
  }
  s.set_total(total);
  return s;
}

v1::QueryResponse Response(std::vector<v1::Series> series, uint32_t truncated = 0) {
  v1::QueryResponse r;
  r.set_metric("syscalls");
  r.set_kind(v1::COUNTER);
  for (auto& s : series) *r.add_series() = s;
  r.set_series_truncated(truncated);
  return r;
}

TEST(QueryMergeTest, SumsSeriesWithSameLabelsPointwise) {
  auto a = Response({MakeSeries({{"comm", "nginx"}}, {{1000, 1}, {2000, 2}}),
                     MakeSeries({{"comm", "bash"}}, {{1000, 1}})});
  auto b = Response({MakeSeries({{"comm", "nginx"}}, {{2000, 5}, {3000, 7}})});
  v1::QueryResponse m = MergeQueryResponses({a, b}, 0);
  EXPECT_EQ(m.metric(), "syscalls");
  EXPECT_EQ(m.kind(), v1::COUNTER);
  ASSERT_EQ(m.series_size(), 2);
  const v1::Series& nginx = m.series(0);
  EXPECT_EQ(nginx.labels(0).value(), "nginx");
  EXPECT_DOUBLE_EQ(nginx.total(), 15);
  ASSERT_EQ(nginx.points_size(), 3);
  EXPECT_EQ(nginx.points(0).time_ms(), 1000);
  EXPECT_DOUBLE_EQ(nginx.points(0).value(), 1);
  EXPECT_DOUBLE_EQ(nginx.points(1).value(), 7);
  EXPECT_DOUBLE_EQ(nginx.points(2).value(), 7);
  EXPECT_EQ(m.series(1).labels(0).value(), "bash");
  EXPECT_EQ(m.series_truncated(), 0u);
}

TEST(QueryMergeTest, LabelOrderDoesNotSplitASeries) {
  auto a = Response({MakeSeries({{"a", "1"}, {"b", "2"}}, {{0, 1}})});
  auto b = Response({MakeSeries({{"b", "2"}, {"a", "1"}}, {{0, 1}})});
  v1::QueryResponse m = MergeQueryResponses({a, b}, 0);
  ASSERT_EQ(m.series_size(), 1);
  EXPECT_DOUBLE_EQ(m.series(0).total(), 2);
}

TEST(QueryMergeTest, ResortsAndReappliesLimit) {
  // Each aggregator alone ranks "x" first; merged, "y" is largest.
  auto a =
      Response({MakeSeries({{"comm", "x"}}, {{0, 10}}), MakeSeries({{"comm", "y"}}, {{0, 8}})});
  auto b = Response({MakeSeries({{"comm", "x"}}, {{0, 1}}), MakeSeries({{"comm", "y"}}, {{0, 9}}),
                     MakeSeries({{"comm", "z"}}, {{0, 2}})},
                    /*truncated=*/3);
  v1::QueryResponse m = MergeQueryResponses({a, b}, 2);
  ASSERT_EQ(m.series_size(), 2);
  EXPECT_EQ(m.series(0).labels(0).value(), "y");
  EXPECT_DOUBLE_EQ(m.series(0).total(), 17);
  EXPECT_EQ(m.series(1).labels(0).value(), "x");
  EXPECT_EQ(m.series_truncated(), 1u + 3u);
}

TEST(QueryMergeTest, NoResponsesGiveEmptyResult) {
  v1::QueryResponse m = MergeQueryResponses({}, 10);
  EXPECT_EQ(m.series_size(), 0);
  EXPECT_EQ(m.series_truncated(), 0u);
}

}  // namespace
}  // namespace andon::controller
