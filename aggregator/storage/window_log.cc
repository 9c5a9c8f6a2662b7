#include "aggregator/storage/window_log.h"

#include "absl/strings/str_cat.h"
#include "common/varint.h"

namespace andon::aggregator {
namespace {

constexpr int64_t kMsNs = 1000000;

uint64_t Zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t Unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// A signed duration: zigzag-coded, in ms when whole (low bit 0), else in ns.
void PutDuration(std::string& out, int64_t ns) {
  if (ns % kMsNs == 0) {
    PutVarint(out, Zigzag(ns / kMsNs) << 1);
  } else {
    PutVarint(out, (Zigzag(ns) << 1) | 1);
  }
}

bool GetDuration(absl::string_view& in, int64_t* ns) {
  uint64_t v = 0;
  if (!GetVarint(in, &v)) return false;
  const int64_t n = Unzigzag(v >> 1);
  if ((v & 1) == 0) {
    if (n > INT64_MAX / kMsNs || n < INT64_MIN / kMsNs) return false;
    *ns = n * kMsNs;
  } else {
    *ns = n;
  }
  return true;
}

}  // namespace

void WindowLogWriter::Add(uint64_t series_id, int64_t window_start_ns, int64_t window_ns,
                          const v1::Value& value) {
  if (points_ == 0) first_start_ns_ = previous_start_ns_ = window_start_ns;
  for (int i = 0; i < 8; ++i) body_.push_back(static_cast<char>(series_id >> (8 * i)));
  PutDuration(body_, window_start_ns - previous_start_ns_);
  PutDuration(body_, window_ns);
  value.SerializeToString(&value_);
  PutVarint(body_, value_.size());
  body_ += value_;
  previous_start_ns_ = window_start_ns;
  ++points_;
}

std::string WindowLogWriter::Record() const {
  std::string out(1, '\0');
  out.reserve(body_.size() + 16);
  PutVarint(out, points_);
  PutVarint(out, Zigzag(first_start_ns_));
  out += body_;
  return out;
}

absl::Status ReadWindowLog(absl::string_view record, const LoggedPointFn& point) {
  auto corrupt = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("logged windows: ", what));
  };
  if (!IsWindowLogRecord(record)) return corrupt("not a window log record");
  record.remove_prefix(1);
  uint64_t points = 0, first = 0;
  if (!GetVarint(record, &points) || !GetVarint(record, &first)) return corrupt("truncated header");
  int64_t start = Unzigzag(first);
  for (uint64_t i = 0; i < points; ++i) {
    if (record.size() < 8) return corrupt("truncated series id");
    uint64_t id = 0;
    for (int b = 0; b < 8; ++b) {
      id |= static_cast<uint64_t>(static_cast<uint8_t>(record[b])) << (8 * b);
    }
    record.remove_prefix(8);
    int64_t delta = 0, width = 0;
    uint64_t length = 0;
    if (!GetDuration(record, &delta) || !GetDuration(record, &width) ||
        !GetVarint(record, &length)) {
      return corrupt("truncated point");
    }
    if (width <= 0) return corrupt("a window of no width");
    if (length > record.size()) return corrupt("a value longer than the record");
    v1::Value value;
    if (!value.ParseFromArray(record.data(), static_cast<int>(length))) {
      return corrupt("an unreadable value");
    }
    record.remove_prefix(length);
    start += delta;
    point(id, start, width, std::move(value));
  }
  if (!record.empty()) return corrupt("bytes after the last point");
  return absl::OkStatus();
}

}  // namespace andon::aggregator
