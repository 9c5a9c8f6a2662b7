#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "andon/v1/types.pb.h"

namespace andon::aggregator {

// One raw window of a series, as it arrived (merged with any other arrival
// of the same window).
struct RawWindow {
  int64_t start_ns = 0;
  int64_t window_ns = 0;
  v1::Value value;
};

// A raw window of a counter, without a Value: 24 bytes instead of 48, and
// nothing to allocate or copy. Open windows of counters are held so.
struct CounterWindow {
  int64_t start_ns = 0;
  int64_t window_ns = 0;
  uint64_t count = 0;
};

// The raw windows of one series in one 10 s block, stored under one key, in
// one of two forms. Durations are varints in ms when whole, else in ns (the
// low bit says which).
//  - rows (any value kind): for each window, in time order, its offset from
//    the block's start, its width, its value's length, then the serialized
//    value;
//  - counter columns (every window a counter, nearly all raw blocks): a 0
//    byte (never the first byte of rows: a zero offset is written as 1), one
//    varint of count << 3 | layout << 1 | coding, then by layout (0: a 1 s
//    window each second from the block's start, nothing more; 1: evenly
//    spaced, the first offset and the width; 2: each window's offset and
//    width), then the values by coding (0: plain varints; 1: zigzag deltas
//    from the previous, the first from 0; whichever is shorter). Ten 1 s
//    windows of small counters take 12 bytes.
// Blocks of either form stay readable; new blocks of counters are written
// in columns.

// Encodes `windows` (sorted by start, then width; each within the block).
std::string EncodeRawBlock(int64_t block_start_ns, const std::vector<RawWindow>& windows);
// The same bytes as EncodeRawBlock of the same windows as counters.
std::string EncodeCounterBlock(int64_t block_start_ns, const std::vector<CounterWindow>& windows);
// Appends the windows of an encoded block to `out`; DATA_LOSS if malformed.
absl::Status DecodeRawBlock(int64_t block_start_ns, absl::string_view bytes,
                            std::vector<RawWindow>* out);

// Merges `window` into sorted `windows`: into the window of the same start
// and width if there is one (values merge), else inserted in order. Fails,
// changing nothing, when the values do not merge.
absl::Status AddRawWindow(std::vector<RawWindow>& windows, RawWindow window);
// The same for counters: a window of the same start and width adds up.
void AddCounterWindow(std::vector<CounterWindow>& windows, const CounterWindow& window);

}  // namespace andon::aggregator
