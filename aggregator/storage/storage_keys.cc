#include "aggregator/storage/storage_keys.h"

namespace andon::aggregator {
namespace {

// Flipping the sign bit maps int64 order onto uint64 order, so windows before
// 1970 would still sort first.
constexpr uint64_t kSignBit = uint64_t{1} << 63;

void AppendUint64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint64_t ReadUint64(absl::string_view bytes) {
  uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | static_cast<unsigned char>(bytes[i]);
  return out;
}

void AppendName(std::string& out, absl::string_view name) {
  out.append(name.data(), name.size());
  out.push_back('\0');
}

}  // namespace

std::string EncodeUint64(uint64_t v) {
  std::string out;
  AppendUint64(out, v);
  return out;
}

bool DecodeUint64(absl::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  *v = ReadUint64(bytes);
  return true;
}

std::string PointKey(Level level, uint64_t series_id, int64_t window_start_ns) {
  std::string key(1, kPointPrefix);
  key.push_back(static_cast<char>(level));
  AppendUint64(key, series_id);
  AppendUint64(key, static_cast<uint64_t>(window_start_ns) ^ kSignBit);
  return key;
}

bool DecodePointKey(absl::string_view key, DecodedPointKey* out) {
  if (key.size() < 18 || key[0] != kPointPrefix) return false;
  const auto level = static_cast<uint8_t>(key[1]);
  if (level >= kLevelCount) return false;
  out->level = static_cast<Level>(level);
  if (key.size() != 18u) return false;
  out->series_id = ReadUint64(key.substr(2, 8));
  out->window_start_ns = static_cast<int64_t>(ReadUint64(key.substr(10, 8)) ^ kSignBit);
  out->window_ns = out->level == Level::kRaw ? kMaxRawWindowNs : LevelWidthNs(out->level);
  return true;
}

std::string LogKey(uint64_t log_sequence) {
  std::string key(1, kLogPrefix);
  AppendUint64(key, log_sequence);
  return key;
}

std::string LegacyPointKey(uint64_t series_id, int64_t window_start_ns) {
  std::string key(1, kLegacyPointPrefix);
  AppendUint64(key, series_id);
  AppendUint64(key, static_cast<uint64_t>(window_start_ns) ^ kSignBit);
  return key;
}

bool DecodeLegacyPointKey(absl::string_view key, uint64_t* series_id, int64_t* window_start_ns) {
  if (key.size() != 17 || key[0] != kLegacyPointPrefix) return false;
  *series_id = ReadUint64(key.substr(1, 8));
  *window_start_ns = static_cast<int64_t>(ReadUint64(key.substr(9, 8)) ^ kSignBit);
  return true;
}

std::string SeriesKeyKey(uint64_t series_id) {
  std::string key(1, kSeriesPrefix);
  AppendUint64(key, series_id);
  return key;
}

std::string MetricIndexPrefix(absl::string_view metric) {
  std::string key(1, kMetricIndexPrefix);
  AppendName(key, metric);
  return key;
}

std::string MetricIndexKey(absl::string_view metric, uint64_t series_id) {
  std::string key = MetricIndexPrefix(metric);
  AppendUint64(key, series_id);
  return key;
}

std::string LabelIndexPrefix(absl::string_view metric, absl::string_view label) {
  std::string key(1, kLabelIndexPrefix);
  AppendName(key, metric);
  AppendName(key, label);
  return key;
}

std::string LabelValuePrefix(absl::string_view metric, absl::string_view label,
                             absl::string_view value) {
  std::string key = LabelIndexPrefix(metric, label);
  AppendName(key, value);
  return key;
}

std::string LabelIndexKey(absl::string_view metric, absl::string_view label,
                          absl::string_view value, uint64_t series_id) {
  std::string key = LabelValuePrefix(metric, label, value);
  AppendUint64(key, series_id);
  return key;
}

bool DecodeIndexSeriesId(absl::string_view key, uint64_t* series_id) {
  if (key.size() < 9) return false;
  *series_id = ReadUint64(key.substr(key.size() - 8));
  return true;
}

std::string MetricInfoKey(absl::string_view metric) {
  std::string key(1, kMetricInfoPrefix);
  key.append(metric.data(), metric.size());
  return key;
}

std::string HostLabelsKey(absl::string_view sender_id) {
  std::string key(1, kHostLabelsPrefix);
  key.append(sender_id.data(), sender_id.size());
  return key;
}

std::string SequenceKey(absl::string_view sender_id) {
  std::string key(1, kSequencePrefix);
  key.append(sender_id.data(), sender_id.size());
  return key;
}

std::string LastSeenKey(uint64_t series_id) {
  std::string key(1, kLastSeenPrefix);
  AppendUint64(key, series_id);
  return key;
}

int64_t HourOf(int64_t time_ns) {
  constexpr int64_t kHourNs = int64_t{3600} * 1000 * 1000 * 1000;
  return time_ns >= 0 ? time_ns / kHourNs : (time_ns - kHourNs + 1) / kHourNs;
}

std::string EncodeSequence(uint64_t sequence, int64_t hour) {
  std::string out;
  AppendUint64(out, sequence);
  AppendUint64(out, static_cast<uint64_t>(hour));
  return out;
}

bool DecodeSequence(absl::string_view bytes, uint64_t* sequence, int64_t* hour) {
  if (bytes.size() == 8) {
    *sequence = ReadUint64(bytes);
    *hour = -1;
    return true;
  }
  if (bytes.size() != 16) return false;
  *sequence = ReadUint64(bytes.substr(0, 8));
  *hour = static_cast<int64_t>(ReadUint64(bytes.substr(8, 8)));
  return true;
}

}  // namespace andon::aggregator
