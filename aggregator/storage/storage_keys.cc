#include "aggregator/storage/storage_keys.h"

namespace andon::aggregator {
namespace {

// Flipping the sign bit maps int64 order onto uint64 order, so windows before
// 1970 would still sort first.
constexpr uint64_t kSignBit = uint64_t{1} << 63;

void AppendUint64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

}  // namespace

std::string EncodeUint64(uint64_t v) {
  std::string out;
  AppendUint64(out, v);
  return out;
}

bool DecodeUint64(absl::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  uint64_t out = 0;
  for (unsigned char c : bytes) out = (out << 8) | c;
  *v = out;
  return true;
}

std::string PointKey(uint64_t series_id, int64_t window_start_ns) {
  std::string key(1, kPointPrefix);
  AppendUint64(key, series_id);
  AppendUint64(key, static_cast<uint64_t>(window_start_ns) ^ kSignBit);
  return key;
}

bool DecodePointKey(absl::string_view key, uint64_t* series_id, int64_t* window_start_ns) {
  if (key.size() != 17 || key[0] != kPointPrefix) return false;
  uint64_t start = 0;
  if (!DecodeUint64(key.substr(1, 8), series_id) || !DecodeUint64(key.substr(9, 8), &start)) {
    return false;
  }
  *window_start_ns = static_cast<int64_t>(start ^ kSignBit);
  return true;
}

std::string SeriesKeyKey(uint64_t series_id) {
  std::string key(1, kSeriesPrefix);
  AppendUint64(key, series_id);
  return key;
}

std::string MetricIndexKey(absl::string_view metric, uint64_t series_id) {
  std::string key(1, kMetricIndexPrefix);
  key.append(metric.data(), metric.size());
  key.push_back('\0');
  AppendUint64(key, series_id);
  return key;
}

std::string MetricInfoKey(absl::string_view metric) {
  std::string key(1, kMetricInfoPrefix);
  key.append(metric.data(), metric.size());
  return key;
}

std::string SequenceKey(absl::string_view sender_id) {
  std::string key(1, kSequencePrefix);
  key.append(sender_id.data(), sender_id.size());
  return key;
}

}  // namespace andon::aggregator
