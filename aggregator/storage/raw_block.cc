#include "aggregator/storage/raw_block.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/value_merge.h"
#include "common/varint.h"

namespace andon::aggregator {
namespace {

// Durations in whole milliseconds (every agent window is) take two bytes
// instead of five: the low bit says which unit follows.
void PutDuration(std::string& out, int64_t ns) {
  const auto u = static_cast<uint64_t>(ns);
  PutVarint(out, u % 1000000 == 0 ? ((u / 1000000) << 1) | 1 : u << 1);
}

bool GetDuration(absl::string_view& in, int64_t* ns) {
  uint64_t v = 0;
  if (!GetVarint(in, &v)) return false;
  *ns = static_cast<int64_t>((v & 1) != 0 ? (v >> 1) * 1000000 : v >> 1);
  return true;
}

bool Before(const RawWindow& a, const RawWindow& b) {
  return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.window_ns < b.window_ns;
}

}  // namespace

std::string EncodeRawBlock(int64_t block_start_ns, const std::vector<RawWindow>& windows) {
  std::string out;
  std::string value;
  for (const RawWindow& w : windows) {
    w.value.SerializeToString(&value);
    PutDuration(out, w.start_ns - block_start_ns);
    PutDuration(out, w.window_ns);
    PutVarint(out, value.size());
    out += value;
  }
  return out;
}

absl::Status DecodeRawBlock(int64_t block_start_ns, absl::string_view bytes,
                            std::vector<RawWindow>* out) {
  while (!bytes.empty()) {
    int64_t offset = 0, width = 0;
    uint64_t size = 0;
    if (!GetDuration(bytes, &offset) || !GetDuration(bytes, &width) || !GetVarint(bytes, &size) ||
        size > bytes.size()) {
      return absl::DataLossError("malformed raw block");
    }
    RawWindow& w = out->emplace_back();
    w.start_ns = block_start_ns + offset;
    w.window_ns = width;
    if (!w.value.ParseFromArray(bytes.data(), static_cast<int>(size))) {
      out->pop_back();
      return absl::DataLossError("malformed value in raw block");
    }
    bytes.remove_prefix(size);
  }
  return absl::OkStatus();
}

absl::Status AddRawWindow(std::vector<RawWindow>& windows, RawWindow window) {
  auto it = std::lower_bound(windows.begin(), windows.end(), window, Before);
  if (it != windows.end() && it->start_ns == window.start_ns && it->window_ns == window.window_ns) {
    return MergeValue(window.value, it->value);
  }
  windows.insert(it, std::move(window));
  return absl::OkStatus();
}

}  // namespace andon::aggregator
