#include "aggregator/storage/raw_block.h"

#include "aggregator/storage/raw_block_testing.h"
#include "common/varint.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

TEST(RawBlockTest, RoundTripsWindowsOfSeveralWidthsAndRefusesGarbage) {
  const int64_t block = int64_t{1700000000} * 1000000000;
  std::vector<RawWindow> windows;
  for (int i = 0; i < 10; ++i) {
    RawWindow w;
    w.start_ns = block + i * 1000000000LL;
    w.window_ns = 1000000000;
    w.value.set_counter(static_cast<uint64_t>(i * i));
    ASSERT_TRUE(AddRawWindow(windows, w).ok());
  }
  RawWindow five;
  five.start_ns = block + 5000000000LL;
  five.window_ns = 5000000000;
  five.value.set_counter(100);
  ASSERT_TRUE(AddRawWindow(windows, five).ok());
  const std::string bytes = EncodeRawBlock(block, windows);
  EXPECT_LE(bytes.size(), 11u * 7);  // a few bytes a window
  std::vector<RawWindow> back;
  ASSERT_TRUE(DecodeRawBlock(block, bytes, &back).ok());
  ASSERT_EQ(back.size(), 11u);
  EXPECT_EQ(back[6].start_ns, five.start_ns);  // by start, then width
  EXPECT_EQ(back[6].window_ns, five.window_ns);
  EXPECT_EQ(back[6].value.counter(), 100u);
  EXPECT_EQ(back[9].value.counter(), 64u);
  std::vector<RawWindow> bad;
  EXPECT_FALSE(DecodeRawBlock(block, bytes.substr(0, bytes.size() - 1), &bad).ok());
}

constexpr int64_t kBlock = int64_t{1700000000} * 1000000000;
constexpr int64_t kSecond = 1000000000;

std::vector<RawWindow> Counters(const std::vector<uint64_t>& values) {
  std::vector<RawWindow> out;
  for (size_t i = 0; i < values.size(); ++i) {
    RawWindow& w = out.emplace_back();
    w.start_ns = kBlock + static_cast<int64_t>(i) * kSecond;
    w.window_ns = kSecond;
    w.value.set_counter(values[i]);
  }
  return out;
}

std::vector<uint64_t> CountersOf(const std::vector<RawWindow>& windows) {
  std::vector<uint64_t> out;
  for (const RawWindow& w : windows) out.push_back(w.value.counter());
  return out;
}

TEST(RawBlockTest, CountersGoInColumnsOfABytePerSmallValue) {
  // A steady workload: deltas are small, values too; either way a byte each.
  const std::vector<uint64_t> steady = {50, 47, 55, 52, 49, 51, 60, 44, 50, 53};
  std::string bytes = EncodeRawBlock(kBlock, Counters(steady));
  EXPECT_EQ(bytes[0], '\0');
  // Marker and header (count, layout: one per second, coding): 2 bytes, then 10.
  EXPECT_EQ(bytes.size(), 12u);
  std::vector<RawWindow> back;
  ASSERT_TRUE(DecodeRawBlock(kBlock, bytes, &back).ok());
  EXPECT_EQ(CountersOf(back), steady);
  EXPECT_EQ(back[9].start_ns, kBlock + 9 * kSecond);
  EXPECT_EQ(back[9].window_ns, kSecond);

  // Large values that change little: deltas win.
  const std::vector<uint64_t> big = {1u << 30, (1u << 30) + 3, (1u << 30) + 1, 5};
  bytes = EncodeRawBlock(kBlock, Counters(big));
  back.clear();
  ASSERT_TRUE(DecodeRawBlock(kBlock, bytes, &back).ok());
  EXPECT_EQ(CountersOf(back), big);
  EXPECT_EQ(bytes.size(), 2u + 5 + 1 + 1 + 5);  // plain varints would take 2 + 16

  // Not evenly spaced: each window's offset and width listed.
  std::vector<RawWindow> uneven = Counters({1, 2});
  uneven[1].start_ns = kBlock + 5 * kSecond;
  uneven[1].window_ns = 5 * kSecond;
  back.clear();
  ASSERT_TRUE(DecodeRawBlock(kBlock, EncodeRawBlock(kBlock, uneven), &back).ok());
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].start_ns, uneven[1].start_ns);
  EXPECT_EQ(back[1].window_ns, uneven[1].window_ns);
  EXPECT_EQ(back[1].value.counter(), 2u);

  // Evenly spaced windows other than one a second: first offset and width.
  std::vector<RawWindow> fives = Counters({7, 8});
  fives[1].start_ns = kBlock + 5 * kSecond;
  for (RawWindow& w : fives) w.window_ns = 5 * kSecond;
  back.clear();
  ASSERT_TRUE(DecodeRawBlock(kBlock, EncodeRawBlock(kBlock, fives), &back).ok());
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].start_ns, kBlock + 5 * kSecond);
  EXPECT_EQ(back[1].window_ns, 5 * kSecond);
  EXPECT_EQ(back[1].value.counter(), 8u);

  // Windows outside the block or out of order: refused.
  {
    std::string eleven(1, '\0');
    PutVarint(eleven, 11 << 3);  // eleven 1 s windows in a 10 s block
    eleven += std::string(11, '\x01');
    std::string unordered(1, '\0');
    PutVarint(unordered, 2 << 3 | 2 << 1);  // two listed windows
    PutVarint(unordered, (2000 << 1) | 1);  // at 2 s, 1 s wide
    PutVarint(unordered, (1000 << 1) | 1);
    PutVarint(unordered, (1000 << 1) | 1);  // then at 1 s
    PutVarint(unordered, (1000 << 1) | 1);
    unordered += "\x01\x01";
    std::string outside(1, '\0');
    PutVarint(outside, 1 << 3 | 1 << 1);  // one evenly spaced window
    PutVarint(outside, (9000 << 1) | 1);  // at 9 s
    PutVarint(outside, (2000 << 1) | 1);  // 2 s wide: past the block
    outside += "\x01";
    for (const std::string& bad : {eleven, unordered, outside}) {
      std::vector<RawWindow> none;
      EXPECT_EQ(DecodeRawBlock(kBlock, bad, &none).code(), absl::StatusCode::kDataLoss);
      EXPECT_TRUE(none.empty());
    }
  }

  // Cut short or with bytes to spare: refused, nothing appended.
  bytes = EncodeRawBlock(kBlock, Counters(steady));
  for (const std::string& bad :
       {bytes.substr(0, bytes.size() - 1), bytes + "x", std::string(1, '\0'),
        std::string("\0\x7f\0", 3), std::string("\0\x0e\x01", 3) /* layout 3 */}) {
    std::vector<RawWindow> none;
    EXPECT_EQ(DecodeRawBlock(kBlock, bad, &none).code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(none.empty());
  }
}

TEST(RawBlockTest, BlocksInRowsStayReadableAndOtherKindsStayInRows) {
  // A block of counters as rows, as written before columns.
  const std::string rows = CounterBlockInRows(300);
  std::vector<RawWindow> back;
  ASSERT_TRUE(DecodeRawBlock(kBlock, rows, &back).ok());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].value.counter(), 300u);
  EXPECT_EQ(back[0].window_ns, kSecond);

  std::vector<RawWindow> gauges = Counters({1});
  gauges[0].value.mutable_gauge()->set_max(2.5);
  const std::string bytes = EncodeRawBlock(kBlock, gauges);
  EXPECT_NE(bytes[0], '\0');
  back.clear();
  ASSERT_TRUE(DecodeRawBlock(kBlock, bytes, &back).ok());
  EXPECT_EQ(back[0].value.gauge().max(), 2.5);
}

}  // namespace
}  // namespace andon::aggregator
