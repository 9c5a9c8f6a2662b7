#include "aggregator/storage/window_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

namespace andon::aggregator {
namespace {

using Logged = std::tuple<uint64_t, int64_t, int64_t, std::string>;

std::vector<Logged> ReadAll(absl::string_view record, absl::Status* status) {
  std::vector<Logged> out;
  *status = ReadWindowLog(record, [&](uint64_t id, int64_t start, int64_t width, v1::Value v) {
    out.emplace_back(id, start, width, v.DebugString());
  });
  return out;
}

TEST(WindowLogTest, PointsComeBackAsWritten) {
  v1::Value counter;
  counter.set_counter(42);
  v1::Value gauge;
  gauge.mutable_gauge()->set_max(2.5);
  gauge.mutable_gauge()->set_count(3);
  WindowLogWriter writer;
  EXPECT_TRUE(writer.empty());
  const int64_t t = int64_t{1700000040} * 1000000000;
  writer.Add(0xfedcba9876543210ull, t, 1000000000, counter);
  writer.Add(7, t - 3000000000, 10000000000, gauge);  // earlier: a negative delta
  writer.Add(~uint64_t{0}, t + 1, 1, counter);
  EXPECT_FALSE(writer.empty());
  EXPECT_TRUE(IsWindowLogRecord(writer.Record()));
  absl::Status status;
  EXPECT_THAT(
      ReadAll(writer.Record(), &status),
      testing::ElementsAre(Logged{0xfedcba9876543210ull, t, 1000000000, counter.DebugString()},
                           Logged{7, t - 3000000000, 10000000000, gauge.DebugString()},
                           Logged{~uint64_t{0}, t + 1, 1, counter.DebugString()}));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(WindowLogTest, ACounterPointTakesAboutFourteenBytes) {
  // A host's window: 200 counters of one second.
  WindowLogWriter writer;
  v1::Value value;
  for (uint64_t i = 0; i < 200; ++i) {
    value.set_counter(i * 7);
    writer.Add(0x9e3779b97f4a7c15ull * (i + 1), int64_t{1700000040} * 1000000000, 1000000000,
               value);
  }
  EXPECT_LE(writer.Record().size(), 200u * 15);
}

TEST(WindowLogTest, ABatchAsOlderVersionsLoggedItIsNotThisFormat) {
  EXPECT_FALSE(IsWindowLogRecord(""));
  EXPECT_FALSE(IsWindowLogRecord("\x0a\x02h1"));  // IngestBatch.sender_id
}

TEST(WindowLogTest, ATruncatedOrDamagedRecordIsDataLoss) {
  v1::Value counter;
  counter.set_counter(300);
  WindowLogWriter writer;
  writer.Add(1, 1000000000, 1000000000, counter);
  writer.Add(2, 2000000000, 1000000000, counter);
  const std::string whole = writer.Record();
  for (size_t cut = 2; cut < whole.size(); ++cut) {
    absl::Status status;
    std::vector<Logged> read = ReadAll(whole.substr(0, cut), &status);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << "cut at " << cut;
    EXPECT_LE(read.size(), 1u);
  }
  std::string zero_width = whole;
  zero_width[1 + 1 + 9 + 8 + 1] = 0;  // marker, count, start, id, delta: the first width
  absl::Status status;
  ReadAll(zero_width, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace andon::aggregator
