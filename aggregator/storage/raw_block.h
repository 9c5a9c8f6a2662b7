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

// The raw windows of one series in one 10 s block, stored under one key:
// for each window, in time order, varints of its offset from the block's
// start and of its width (in ms when whole, else ns; the low bit says
// which), of its value's length, then the serialized value.

// Encodes `windows` (sorted by start, then width; each within the block).
std::string EncodeRawBlock(int64_t block_start_ns, const std::vector<RawWindow>& windows);
// Appends the windows of an encoded block to `out`; DATA_LOSS if malformed.
absl::Status DecodeRawBlock(int64_t block_start_ns, absl::string_view bytes,
                            std::vector<RawWindow>* out);

// Merges `window` into sorted `windows`: into the window of the same start
// and width if there is one (values merge), else inserted in order. Fails,
// changing nothing, when the values do not merge.
absl::Status AddRawWindow(std::vector<RawWindow>& windows, RawWindow window);

}  // namespace andon::aggregator
