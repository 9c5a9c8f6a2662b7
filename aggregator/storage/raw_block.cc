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

// Counter columns (see raw_block.h).
constexpr char kColumnsMarker = 0;
constexpr int64_t kBlockNs = int64_t{10} * 1000000000;  // a raw block's span
// How the windows lie in the block.
enum Layout : uint64_t {
  kSeconds = 0,       // one 1 s window a second from the block's start
  kEvenlySpaced = 1,  // then the first offset and the width
  kListed = 2,        // then each window's offset and width
};
enum Coding : uint64_t { kPlain = 0, kDeltas = 1 };

// The header after the marker: count, layout and coding in one varint (one
// byte for up to 15 windows).
uint64_t Header(uint64_t n, Layout layout, Coding coding) { return n << 3 | layout << 1 | coding; }

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

bool AllCounters(const std::vector<RawWindow>& windows) {
  for (const RawWindow& w : windows) {
    if (w.value.kind_case() != v1::Value::kCounter) return false;
  }
  return !windows.empty();
}

uint64_t Count(const RawWindow& w) { return w.value.counter(); }
uint64_t Count(const CounterWindow& w) { return w.count; }

// Windows of either kind, read through Count(); the caller checked that
// every value is a counter.
template <typename Window>
std::string EncodeColumns(int64_t block_start_ns, const std::vector<Window>& windows) {
  constexpr int64_t kSecondNs = 1000000000;
  const int64_t first = windows[0].start_ns - block_start_ns;
  const int64_t width = windows[0].window_ns;
  bool even = true;
  for (size_t i = 0; i < windows.size(); ++i) {
    even &= windows[i].window_ns == width &&
            windows[i].start_ns - block_start_ns == first + static_cast<int64_t>(i) * width;
  }
  const Layout layout =
      !even ? kListed : (first == 0 && width == kSecondNs ? kSeconds : kEvenlySpaced);
  size_t plain = 0;
  size_t deltas = 0;
  uint64_t previous = 0;
  for (const Window& w : windows) {
    plain += VarintSize(Count(w));
    deltas += VarintSize(ZigZag(static_cast<int64_t>(Count(w) - previous)));
    previous = Count(w);
  }
  const Coding coding = deltas < plain ? kDeltas : kPlain;

  std::string out(1, kColumnsMarker);
  PutVarint(out, Header(windows.size(), layout, coding));
  if (layout == kEvenlySpaced) {
    PutDuration(out, first);
    PutDuration(out, width);
  } else if (layout == kListed) {
    for (const Window& w : windows) {
      PutDuration(out, w.start_ns - block_start_ns);
      PutDuration(out, w.window_ns);
    }
  }
  previous = 0;
  for (const Window& w : windows) {
    PutVarint(out, coding == kPlain ? Count(w) : ZigZag(static_cast<int64_t>(Count(w) - previous)));
    previous = Count(w);
  }
  return out;
}

absl::Status DecodeColumns(int64_t block_start_ns, absl::string_view bytes,
                           std::vector<RawWindow>* out) {
  bytes.remove_prefix(1);  // the marker
  const absl::Status malformed = absl::DataLossError("malformed raw block (counter columns)");
  uint64_t header = 0;
  if (!GetVarint(bytes, &header)) return malformed;
  const uint64_t n = header >> 3;
  const uint64_t layout = (header >> 1) & 3;
  const uint64_t coding = header & 1;
  // Every window takes at least a byte for its value.
  if (n == 0 || n > bytes.size() || layout > kListed) return malformed;
  const size_t begin = out->size();
  int64_t first = 0;
  int64_t width = 1000000000;
  if (layout == kEvenlySpaced && (!GetDuration(bytes, &first) || !GetDuration(bytes, &width))) {
    return malformed;
  }
  // Windows lie inside the block, in order: checked before any arithmetic,
  // so that a corrupt block is refused, never wrapped around.
  auto in_block = [](int64_t offset, int64_t w) {
    return offset >= 0 && w > 0 && w <= kBlockNs && offset <= kBlockNs - w;
  };
  if (layout != kListed &&
      (!in_block(first, width) || n > static_cast<uint64_t>((kBlockNs - first) / width))) {
    return malformed;
  }
  int64_t previous_offset = -1;
  int64_t previous_width = 0;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t offset = first + static_cast<int64_t>(i) * width;
    if (layout == kListed) {
      if (!GetDuration(bytes, &offset) || !GetDuration(bytes, &width) || !in_block(offset, width) ||
          offset < previous_offset || (offset == previous_offset && width <= previous_width)) {
        out->resize(begin);
        return malformed;
      }
      previous_offset = offset;
      previous_width = width;
    }
    RawWindow& w = out->emplace_back();
    w.start_ns = block_start_ns + offset;
    w.window_ns = width;
  }
  uint64_t previous = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    if (!GetVarint(bytes, &v)) {
      out->resize(begin);
      return malformed;
    }
    previous = coding == kPlain ? v : previous + static_cast<uint64_t>(UnZigZag(v));
    (*out)[begin + i].value.set_counter(previous);
  }
  if (!bytes.empty()) {
    out->resize(begin);
    return malformed;
  }
  return absl::OkStatus();
}

bool Before(const RawWindow& a, const RawWindow& b) {
  return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.window_ns < b.window_ns;
}

}  // namespace

std::string EncodeRawBlock(int64_t block_start_ns, const std::vector<RawWindow>& windows) {
  if (AllCounters(windows)) return EncodeColumns(block_start_ns, windows);
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

std::string EncodeCounterBlock(int64_t block_start_ns, const std::vector<CounterWindow>& windows) {
  return windows.empty() ? std::string() : EncodeColumns(block_start_ns, windows);
}

absl::Status DecodeRawBlock(int64_t block_start_ns, absl::string_view bytes,
                            std::vector<RawWindow>* out) {
  if (!bytes.empty() && bytes[0] == kColumnsMarker)
    return DecodeColumns(block_start_ns, bytes, out);
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

void AddCounterWindow(std::vector<CounterWindow>& windows, const CounterWindow& window) {
  auto it = std::lower_bound(
      windows.begin(), windows.end(), window, [](const CounterWindow& a, const CounterWindow& b) {
        return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.window_ns < b.window_ns;
      });
  if (it != windows.end() && it->start_ns == window.start_ns && it->window_ns == window.window_ns) {
    it->count += window.count;
    return;
  }
  windows.insert(it, window);
}

}  // namespace andon::aggregator
