#include "aggregator/batch_validator.h"

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
using ::testing::HasSubstr;

class BatchValidatorTest : public ::testing::Test {
 protected:
  // The batch must be refused as INVALID_ARGUMENT; returns its message.
  std::string Rejection(const v1::IngestBatch& batch) {
    absl::Status s = validator_.Validate(batch);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return std::string(s.message());
  }
  // A batch with one good point and then `bad`.
  v1::IngestBatch WithBadPoint(v1::Point bad) {
    return Batch("h1", 7, {Syscalls("h1", "nginx", "read", kT0Ns, 1), std::move(bad)});
  }

  FakeClock clock_{absl::FromUnixNanos(kT0Ns)};
  MetricCatalog catalog_;
  BatchValidator validator_{&clock_, &catalog_};
};

TEST_F(BatchValidatorTest, AcceptsAWellFormedBatch) {
  EXPECT_TRUE(
      validator_
          .Validate(Batch("h1", 1,
                          {Syscalls("h1", "nginx", "read", kT0Ns, 1),
                           CounterPoint("execs", {{"comm", "ls"}}, kT0Ns, 2, 10 * kSecondNs)}))
          .ok());
  EXPECT_TRUE(validator_.Validate(Batch("h1", 1, {})).ok());
}

TEST_F(BatchValidatorTest, AcceptsHostLabelsAForwardedBatchDeclares) {
  v1::Point p = CounterPoint("syscalls", {{"role", "db"}, {"syscall", "read"}}, kT0Ns, 3);
  v1::IngestBatch forwarded = Batch("leaf-1", 1, {p});
  forwarded.set_sender_kind(v1::AGGREGATOR);
  v1::MetricInfo declared = *catalog_.Lookup("syscalls");
  declared.add_host_labels("role");
  *forwarded.add_metrics() = declared;
  EXPECT_TRUE(validator_.Validate(forwarded).ok()) << validator_.Validate(forwarded);
  // The catalog learns the descriptor without the batch's host labels.
  validator_.Learn(forwarded);
  EXPECT_EQ(catalog_.Lookup("syscalls")->host_labels_size(), 0);
  // Without the declaration, role is refused as before.
  forwarded.clear_metrics();
  EXPECT_THAT(Rejection(forwarded), HasSubstr("label 'role' is not declared"));
  // An agent may not declare host labels for its points.
  v1::IngestBatch agent = Batch("h1", 1, {p});
  *agent.add_metrics() = declared;
  EXPECT_THAT(Rejection(agent), HasSubstr("only aggregators forward"));
}

TEST_F(BatchValidatorTest, OddHostLabelsNeverCostABatch) {
  v1::IngestBatch batch = Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 1)});
  (*batch.mutable_host_labels()->mutable_labels())["role"] = "db";
  (*batch.mutable_host_labels()->mutable_labels())["host"] = "other";
  (*batch.mutable_host_labels()->mutable_labels())["9bad"] = std::string("a\0b", 3);
  EXPECT_TRUE(validator_.Validate(batch).ok()) << validator_.Validate(batch);
}

TEST_F(BatchValidatorTest, RejectsMissingSender) {
  EXPECT_THAT(Rejection(Batch("", 1, {})), HasSubstr("no sender_id"));
}

TEST_F(BatchValidatorTest, RejectsSequenceZero) {
  EXPECT_THAT(Rejection(Batch("h1", 0, {})),
              AllOf(HasSubstr("'h1'"), HasSubstr("sequence must start at 1")));
}

TEST_F(BatchValidatorTest, RejectsTooManyPoints) {
  std::vector<v1::Point> points(kMaxPointsPerBatch + 1, Syscalls("h1", "x", "read", kT0Ns, 1));
  EXPECT_THAT(Rejection(Batch("h1", 1, std::move(points))),
              AllOf(HasSubstr("50001 points"), HasSubstr("limit of 50000")));
  std::vector<v1::Point> max_points(kMaxPointsPerBatch, Syscalls("h1", "x", "read", kT0Ns, 1));
  EXPECT_TRUE(validator_.Validate(Batch("h1", 1, std::move(max_points))).ok());
}

TEST_F(BatchValidatorTest, RejectsUnknownMetricNamingKnownOnes) {
  EXPECT_THAT(
      Rejection(WithBadPoint(CounterPoint("bogus", {}, kT0Ns, 1))),
      AllOf(HasSubstr("point 1"), HasSubstr("unknown metric 'bogus'"), HasSubstr("syscalls")));
}

TEST_F(BatchValidatorTest, RejectsValueOfWrongKind) {
  v1::Point gauge = Syscalls("h1", "nginx", "read", kT0Ns, 1);
  gauge.mutable_value()->mutable_gauge()->set_count(1);
  EXPECT_THAT(Rejection(WithBadPoint(gauge)),
              HasSubstr("value is a gauge but metric 'syscalls' is a counter"));
  v1::Point empty = Syscalls("h1", "nginx", "read", kT0Ns, 1);
  empty.clear_value();
  EXPECT_THAT(Rejection(WithBadPoint(empty)),
              HasSubstr("point has no value (metric 'syscalls' takes a counter)"));
}

TEST_F(BatchValidatorTest, RejectsInvalidLabelName) {
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {{"9comm", "ls"}}, kT0Ns, 1))),
              HasSubstr("label name '9comm' is invalid"));
}

TEST_F(BatchValidatorTest, RejectsUndeclaredLabel) {
  EXPECT_THAT(
      Rejection(WithBadPoint(CounterPoint("execs", {{"syscall", "read"}}, kT0Ns, 1))),
      HasSubstr("label 'syscall' is not declared for metric 'execs' (declared: host, comm)"));
}

TEST_F(BatchValidatorTest, RejectsRepeatedLabel) {
  EXPECT_THAT(
      Rejection(WithBadPoint(CounterPoint("execs", {{"comm", "a"}, {"comm", "b"}}, kT0Ns, 1))),
      HasSubstr("label 'comm' appears twice"));
}

TEST_F(BatchValidatorTest, RejectsWindowsThatDoNotDivideTenSeconds) {
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {}, kT0Ns, 1, 0))),
              HasSubstr("window_ns 0 is not a window the store keeps: it must divide 10s"));
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {}, kT0Ns, 1, -kSecondNs))),
              HasSubstr("must divide 10s"));
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {}, 0, 1, 60 * kSecondNs))),
              HasSubstr("must divide 10s"));
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {}, 0, 1, 3 * kSecondNs))),
              HasSubstr("must divide 10s"));
  for (int64_t w : {kSecondNs / 10, kSecondNs, 2 * kSecondNs, 5 * kSecondNs, 10 * kSecondNs}) {
    EXPECT_TRUE(validator_.Validate(Batch("h1", 1, {CounterPoint("execs", {}, 0, 1, w)})).ok())
        << w;
  }
}

TEST_F(BatchValidatorTest, RejectsLabelValuesHoldingNul) {
  EXPECT_THAT(
      Rejection(WithBadPoint(CounterPoint("execs", {{"comm", std::string("a\0b", 3)}}, kT0Ns, 1))),
      HasSubstr("the value of label 'comm' holds a NUL byte"));
}

TEST_F(BatchValidatorTest, RejectsUnalignedWindowStart) {
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {}, kT0Ns + 1, 1))),
              HasSubstr("is not aligned to window_ns 1000000000"));
}

TEST_F(BatchValidatorTest, RejectsWindowsFarInTheFuture) {
  const int64_t ten_min = 600 * kSecondNs;
  EXPECT_TRUE(
      validator_.Validate(Batch("h1", 1, {CounterPoint("execs", {}, kT0Ns + ten_min, 1)})).ok());
  EXPECT_THAT(Rejection(WithBadPoint(CounterPoint("execs", {}, kT0Ns + ten_min + kSecondNs, 1))),
              AllOf(HasSubstr("in the future"), HasSubstr("clock")));
  // The limit follows the injected clock.
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(
      validator_
          .Validate(Batch("h1", 1, {CounterPoint("execs", {}, kT0Ns + ten_min + kSecondNs, 1)}))
          .ok());
}

}  // namespace
}  // namespace andon::aggregator
