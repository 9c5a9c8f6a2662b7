#include "aggregator/storage/raw_block.h"

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

}  // namespace
}  // namespace andon::aggregator
