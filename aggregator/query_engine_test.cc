#include "aggregator/query_engine.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "aggregator/storage/rocksdb_series_store.h"
#include "aggregator/test_batches.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

using ::andon::aggregator::testing::Batch;
using ::andon::aggregator::testing::CounterPoint;
using ::andon::aggregator::testing::kSecondNs;
using ::andon::aggregator::testing::kT0Ns;
using ::andon::aggregator::testing::Syscalls;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr int64_t kT0Ms = kT0Ns / 1000000;

// Series as "labels -> total", e.g. "host=a" -> 16, in response order.
std::vector<std::pair<std::string, double>> Totals(const v1::QueryResponse& response) {
  std::vector<std::pair<std::string, double>> out;
  for (const v1::Series& s : response.series()) {
    std::string labels;
    for (const v1::Label& l : s.labels()) {
      if (!labels.empty()) labels += ",";
      labels += l.name() + "=" + l.value();
    }
    out.emplace_back(labels, s.total());
  }
  return out;
}

// Points of one series as "time offset ms from T0 -> value".
std::vector<std::pair<int64_t, double>> Points(const v1::Series& series) {
  std::vector<std::pair<int64_t, double>> out;
  for (const v1::SamplePoint& p : series.points()) out.emplace_back(p.time_ms() - kT0Ms, p.value());
  return out;
}

class QueryEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/query_engine_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = RocksDbSeriesStore::Open(dir_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
    // host a: nginx read 1,2,3 at T0,+1s,+2s; nginx write 10 at T0.
    // host b: bash read 5 at T0 and 1 at +5s.
    auto applied = store_->ApplyBatch(
        Batch("agg", 1,
              {Syscalls("a", "nginx", "read", kT0Ns, 1),
               Syscalls("a", "nginx", "read", kT0Ns + kSecondNs, 2),
               Syscalls("a", "nginx", "read", kT0Ns + 2 * kSecondNs, 3),
               Syscalls("a", "nginx", "write", kT0Ns, 10), Syscalls("b", "bash", "read", kT0Ns, 5),
               Syscalls("b", "bash", "read", kT0Ns + 5 * kSecondNs, 1),
               CounterPoint("execs", {{"host", "a"}, {"comm", "ls"}}, kT0Ns, 4)}));
    ASSERT_TRUE(applied.ok()) << applied.status();
    engine_ = std::make_unique<QueryEngine>(store_.get(), &catalog_,
                                            QueryEngine::kDefaultMaxPointsScanned, &clock_);
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A syscalls query over [T0, T0 + 1 min).
  static v1::QueryRequest Request() {
    v1::QueryRequest r;
    r.set_metric("syscalls");
    r.mutable_start()->set_seconds(kT0Ns / kSecondNs);
    r.mutable_end()->set_seconds(kT0Ns / kSecondNs + 60);
    return r;
  }
  static void AddMatcher(v1::QueryRequest& r, const std::string& name, v1::LabelMatcher::Op op,
                         const std::string& value) {
    v1::LabelMatcher* m = r.add_matchers();
    m->set_name(name);
    m->set_op(op);
    m->set_value(value);
  }
  v1::QueryResponse Run(const v1::QueryRequest& r) {
    auto response = engine_->Run(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::QueryResponse();
  }
  // The query must fail with `code`; returns its message.
  std::string Error(const v1::QueryRequest& r,
                    absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
    auto response = engine_->Run(r);
    EXPECT_EQ(response.status().code(), code) << response.status();
    return std::string(response.status().message());
  }

  std::string dir_;
  std::unique_ptr<RocksDbSeriesStore> store_;
  MetricCatalog catalog_;
  // The stored windows are recent: raw windows answer.
  FakeClock clock_{absl::FromUnixNanos(kT0Ns + 60 * kSecondNs)};
  std::unique_ptr<QueryEngine> engine_;
};

TEST_F(QueryEngineTest, GroupsByLabelsSortedByTotal) {
  v1::QueryRequest r = Request();
  r.add_group_by("host");
  v1::QueryResponse response = Run(r);
  EXPECT_EQ(response.metric(), "syscalls");
  EXPECT_EQ(response.kind(), v1::COUNTER);
  EXPECT_THAT(Totals(response), ElementsAre(Pair("host=a", 16), Pair("host=b", 6)));
  EXPECT_EQ(response.series_truncated(), 0u);

  r.clear_group_by();
  EXPECT_THAT(Totals(Run(r)), ElementsAre(Pair("", 22)));

  r.add_group_by("syscall");
  r.add_group_by("host");
  EXPECT_THAT(Totals(Run(r)),
              ElementsAre(Pair("syscall=write,host=a", 10), Pair("syscall=read,host=a", 6),
                          Pair("syscall=read,host=b", 6)));
}

TEST_F(QueryEngineTest, MatchersSelectSeries) {
  v1::QueryRequest r = Request();
  r.add_group_by("host");
  r.add_group_by("syscall");

  v1::QueryRequest eq = r;
  AddMatcher(eq, "comm", v1::LabelMatcher::EQ, "bash");
  EXPECT_THAT(Totals(Run(eq)), ElementsAre(Pair("host=b,syscall=read", 6)));

  v1::QueryRequest neq = r;
  AddMatcher(neq, "host", v1::LabelMatcher::NEQ, "b");
  AddMatcher(neq, "syscall", v1::LabelMatcher::NEQ, "write");
  EXPECT_THAT(Totals(Run(neq)), ElementsAre(Pair("host=a,syscall=read", 6)));

  v1::QueryRequest regex = r;
  AddMatcher(regex, "syscall", v1::LabelMatcher::REGEX, "w.*|x");
  EXPECT_THAT(Totals(Run(regex)), ElementsAre(Pair("host=a,syscall=write", 10)));

  // Regexes match the whole value: "rea" does not match "read".
  v1::QueryRequest partial = r;
  AddMatcher(partial, "syscall", v1::LabelMatcher::REGEX, "rea");
  EXPECT_THAT(Totals(Run(partial)), ElementsAre());

  v1::QueryRequest not_regex = r;
  AddMatcher(not_regex, "comm", v1::LabelMatcher::NOT_REGEX, "ngin.");
  EXPECT_THAT(Totals(Run(not_regex)), ElementsAre(Pair("host=b,syscall=read", 6)));

  // A label the series lack has value "".
  v1::QueryRequest missing = r;
  AddMatcher(missing, "role", v1::LabelMatcher::EQ, "");
  EXPECT_EQ(Run(missing).series_size(), 3);
}

TEST_F(QueryEngineTest, BucketsPointsByStep) {
  v1::QueryRequest r = Request();
  r.add_group_by("host");
  r.mutable_step()->set_seconds(2);
  v1::QueryResponse response = Run(r);
  ASSERT_EQ(response.series_size(), 2);
  EXPECT_THAT(Points(response.series(0)), ElementsAre(Pair(0, 13), Pair(2000, 3)));
  EXPECT_THAT(Points(response.series(1)), ElementsAre(Pair(0, 5), Pair(4000, 1)));

  // Step 0 means one-second buckets.
  r.clear_step();
  response = Run(r);
  EXPECT_THAT(Points(response.series(0)), ElementsAre(Pair(0, 11), Pair(1000, 2), Pair(2000, 3)));

  // Buckets start at `start`, not at multiples of the step.
  r.mutable_start()->set_seconds(kT0Ns / kSecondNs + 1);
  r.mutable_step()->set_seconds(3);
  response = Run(r);
  EXPECT_THAT(Points(response.series(0)), ElementsAre(Pair(1000, 5)));
  EXPECT_THAT(Points(response.series(1)), ElementsAre(Pair(4000, 1)));
}

TEST_F(QueryEngineTest, EndIsExclusive) {
  v1::QueryRequest r = Request();
  r.mutable_end()->set_seconds(kT0Ns / kSecondNs + 2);
  r.add_group_by("host");
  EXPECT_THAT(Totals(Run(r)), ElementsAre(Pair("host=a", 13), Pair("host=b", 5)));
  // A range with no data gives no series.
  r.mutable_start()->set_seconds(kT0Ns / kSecondNs - 100);
  r.mutable_end()->set_seconds(kT0Ns / kSecondNs - 50);
  EXPECT_EQ(Run(r).series_size(), 0);
}

TEST_F(QueryEngineTest, LimitKeepsLargestAndCountsTheRest) {
  v1::QueryRequest r = Request();
  r.add_group_by("syscall");
  r.add_group_by("host");
  r.set_limit(1);
  v1::QueryResponse response = Run(r);
  EXPECT_THAT(Totals(response), ElementsAre(Pair("syscall=write,host=a", 10)));
  EXPECT_EQ(response.series_truncated(), 2u);
}

TEST_F(QueryEngineTest, RejectsInvalidRanges) {
  v1::QueryRequest r = Request();
  r.clear_start();
  EXPECT_THAT(Error(r), HasSubstr("needs both start and end"));
  r = Request();
  r.clear_end();
  EXPECT_THAT(Error(r), HasSubstr("needs both start and end"));
  r = Request();
  r.mutable_end()->set_seconds(r.start().seconds());
  EXPECT_THAT(Error(r), HasSubstr("end must be after start"));
  r.mutable_end()->set_seconds(r.start().seconds() + 31 * 86400 + 1);
  r.mutable_step()->set_seconds(3600);
  EXPECT_THAT(Error(r), HasSubstr("longer than the limit of 31 days"));
  r.mutable_end()->set_seconds(r.start().seconds() + 31 * 86400);
  EXPECT_TRUE(engine_->Run(r).ok());
}

TEST_F(QueryEngineTest, RejectsBadStep) {
  v1::QueryRequest r = Request();
  r.mutable_step()->set_seconds(-1);
  EXPECT_THAT(Error(r), HasSubstr("step must not be negative"));
  r.mutable_end()->set_seconds(r.start().seconds() + 11001);
  r.mutable_step()->set_seconds(1);
  EXPECT_THAT(Error(r), AllOf(HasSubstr("11001 buckets"), HasSubstr("at least 2s")));
  r.mutable_step()->set_seconds(0);  // Step 0 counts as 1 s.
  EXPECT_THAT(Error(r), HasSubstr("11001 buckets"));
  r.mutable_end()->set_seconds(r.start().seconds() + 11000);
  EXPECT_TRUE(engine_->Run(r).ok());
}

TEST_F(QueryEngineTest, RejectsBadMatchersAndGroupBy) {
  v1::QueryRequest r = Request();
  AddMatcher(r, "comm", v1::LabelMatcher::REGEX, "(nginx");
  EXPECT_THAT(Error(r), AllOf(HasSubstr("bad regex '(nginx'"), HasSubstr("missing )")));
  r = Request();
  AddMatcher(r, "bad-name", v1::LabelMatcher::EQ, "x");
  EXPECT_THAT(Error(r), HasSubstr("matcher label name 'bad-name' is invalid"));
  r = Request();
  r.add_group_by("host name");
  EXPECT_THAT(Error(r), HasSubstr("group_by label name 'host name' is invalid"));
}

TEST_F(QueryEngineTest, UnknownMetricIsNotFound) {
  v1::QueryRequest r = Request();
  r.set_metric("nope");
  EXPECT_THAT(Error(r, absl::StatusCode::kNotFound),
              AllOf(HasSubstr("unknown metric 'nope'"), HasSubstr("syscalls")));
}

TEST_F(QueryEngineTest, MetricsDoNotMix) {
  v1::QueryRequest r = Request();
  r.set_metric("execs");
  r.add_group_by("comm");
  EXPECT_THAT(Totals(Run(r)), ElementsAre(Pair("comm=ls", 4)));
}

}  // namespace
}  // namespace andon::aggregator

namespace andon::aggregator {
namespace {

TEST_F(QueryEngineTest, QueryReadingTooManyWindowsIsCutAndSaysSo) {
  QueryEngine small(store_.get(), &catalog_,
                    /*max_points_scanned=*/5, &clock_);  // the fixture stores 6 syscalls windows
  auto r = small.Run(Request());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->partial());
  ASSERT_EQ(r->warnings_size(), 1);
  EXPECT_THAT(r->warnings(0), HasSubstr("limit of 5 stored windows"));
  EXPECT_THAT(r->warnings(0), HasSubstr("narrow the query"));
  QueryEngine enough(store_.get(), &catalog_, /*max_points_scanned=*/6, &clock_);
  auto whole = enough.Run(Request());
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->partial());
  EXPECT_EQ(whole->warnings_size(), 0);
  double cut_total = 0, whole_total = 0;
  for (const auto& s : r->series()) cut_total += s.total();
  for (const auto& s : whole->series()) whole_total += s.total();
  EXPECT_LT(cut_total, whole_total);
}

}  // namespace
}  // namespace andon::aggregator

namespace andon::aggregator {
namespace {

TEST_F(QueryEngineTest, RateAndTopKApplyToTheStoredWindows) {
  v1::QueryRequest r = Request();
  r.add_group_by("comm");
  r.set_fn("rate");
  v1::QueryResponse rate = Run(r);
  EXPECT_EQ(rate.fn(), "rate");
  EXPECT_EQ(rate.unit(), "1/s");
  // nginx: 16 calls over the 60 s range.
  EXPECT_THAT(Totals(rate), ElementsAre(Pair("comm=nginx", 16.0 / 60), Pair("comm=bash", 0.1)));
  r.set_fn("topk(1)");
  EXPECT_THAT(Totals(Run(r)), ElementsAre(Pair("comm=nginx", 16)));
}

TEST_F(QueryEngineTest, TypedAnswersCarryTheMergedValues) {
  v1::QueryRequest r = Request();
  r.add_group_by("host");
  r.set_typed(true);
  v1::QueryResponse typed = Run(r);
  ASSERT_EQ(typed.series_size(), 2);
  EXPECT_EQ(typed.series(0).total_value().counter(), 16u);
  EXPECT_EQ(typed.series(0).points(0).typed().counter(), 11u);  // read 1 + write 10 at T0
}

TEST_F(QueryEngineTest, CancelledQueryStops) {
  QueryControl control;
  control.cancelled = [] { return true; };
  QueryEngine every_window(store_.get(), &catalog_, QueryEngine::kDefaultMaxPointsScanned, &clock_);
  // The check runs every few thousand windows: store enough of them.
  std::vector<v1::Point> points;
  for (int i = 0; i < 5000; ++i)
    points.push_back(Syscalls("c", "cat", "read", kT0Ns + i * kSecondNs, 1));
  ASSERT_TRUE(store_->ApplyBatch(Batch("agg", 2, points)).ok());
  v1::QueryRequest r = Request();
  r.mutable_end()->set_seconds(kT0Ns / kSecondNs + 6000);
  r.mutable_step()->set_seconds(1);  // read from the raw windows, all 5000 of them
  auto result = every_window.Run(r, control);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(QueryEngineTest, CoarseStepsAreAnsweredFromRollupsExactlyAsFromRawWindows) {
  // 2 hours of 1 s windows of one series, from a start on an hour boundary.
  const int64_t hour = 3600 * kSecondNs;
  const int64_t start = (kT0Ns / hour + 1) * hour;
  std::vector<v1::Point> points;
  uint64_t expected = 0;
  for (int i = 0; i < 7200; ++i) {
    points.push_back(Syscalls("r", "cron", "read", start + i * kSecondNs, 1 + i % 7));
    expected += 1 + i % 7;
  }
  ASSERT_TRUE(store_->ApplyBatch(Batch("agg", 2, points)).ok());
  clock_.Set(absl::FromUnixNanos(start + 2 * hour));
  QueryEngine engine(store_.get(), &catalog_, QueryEngine::kDefaultMaxPointsScanned, &clock_);
  QueryEngine scans_few(store_.get(), &catalog_, /*max_points_scanned=*/2, &clock_);
  for (int64_t step_s : {1, 10, 60, 600, 3600}) {
    v1::QueryRequest r = Request();
    r.mutable_start()->set_seconds(start / kSecondNs);
    r.mutable_end()->set_seconds(start / kSecondNs + 7200);
    r.mutable_step()->set_seconds(step_s);
    v1::LabelMatcher* m = r.add_matchers();
    m->set_name("host");
    m->set_value("r");
    auto coarse = engine.Run(r);
    ASSERT_TRUE(coarse.ok()) << coarse.status();
    ASSERT_EQ(coarse->series_size(), 1);
    uint64_t total = 0;
    for (const auto& p : coarse->series(0).points()) total += static_cast<uint64_t>(p.value());
    EXPECT_EQ(coarse->series(0).points_size(), 7200 / step_s) << step_s;
    EXPECT_EQ(total, expected) << step_s;
    EXPECT_TRUE(coarse->warnings().empty()) << step_s;
  }
  // The hour step read two stored windows (the 1 h level), not 7200.
  v1::QueryRequest r = Request();
  r.mutable_start()->set_seconds(start / kSecondNs);
  r.mutable_end()->set_seconds(start / kSecondNs + 7200);
  r.mutable_step()->set_seconds(3600);
  auto few = scans_few.Run(r);
  ASSERT_TRUE(few.ok()) << few.status();
  EXPECT_FALSE(few->partial());
}

TEST_F(QueryEngineTest, WindowsNotRolledUpYetAreReadFromTheRawLevel) {
  // A store of its own, whose clock says the data is recent: the last
  // windows are still open for roll-up when the query runs.
  const int64_t hour = 3600 * kSecondNs;
  const int64_t start = (kT0Ns / hour + 1) * hour;
  FakeClock clock(absl::FromUnixNanos(start));
  const std::string dir = dir_ + "/recent";
  StoreOptions options;
  options.clock = &clock;
  auto store = RocksDbSeriesStore::Open(dir, options);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<v1::Point> points;
  for (int i = 0; i < 120; ++i) {
    points.push_back(Syscalls("r", "cron", "read", start + i * kSecondNs, 1 + i % 3));
  }
  clock.Advance(absl::Seconds(100));  // rolled up to 90 s; 90..119 s still open
  ASSERT_TRUE((*store)->ApplyBatch(Batch("agg", 1, points)).ok());
  ASSERT_EQ((*store)->rolled_up_until_ns(), start + 90 * kSecondNs);
  QueryEngine engine(store->get(), &catalog_, QueryEngine::kDefaultMaxPointsScanned, &clock);
  std::map<int64_t, std::vector<double>> by_step;
  for (int64_t step_s : {1, 10, 60}) {
    v1::QueryRequest r = Request();
    r.mutable_start()->set_seconds(start / kSecondNs);
    r.mutable_end()->set_seconds(start / kSecondNs + 120);
    r.mutable_step()->set_seconds(step_s);
    auto answer = engine.Run(r);
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_EQ(answer->series_size(), 1);
    // Sum each answer into 60 s buckets to compare them.
    std::vector<double> minutes(2, 0);
    for (const auto& p : answer->series(0).points()) {
      minutes[(p.time_ms() - start / 1'000'000) / 60'000] += p.value();
    }
    by_step[step_s] = minutes;
  }
  EXPECT_EQ(by_step[10], by_step[1]);
  EXPECT_EQ(by_step[60], by_step[1]);
  EXPECT_EQ(by_step[1], (std::vector<double>{120, 120}));
}

}  // namespace
}  // namespace andon::aggregator
