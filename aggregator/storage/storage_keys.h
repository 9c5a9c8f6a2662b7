#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace andon::aggregator {

// The key layout of the aggregator's data directory. Integers are big-endian
// so that byte order is numeric order: one series over a time range is one
// range scan.
//   'p' + series_id + window_start  -> serialized v1::Value (merged in place)
//   's' + series_id                 -> serialized v1::SeriesKey
//   'm' + metric + '\0' + series_id -> ""   (metric index)
//   'q' + sender_id                 -> last applied sequence
//   'd' + metric                    -> serialized v1::MetricInfo (declared metrics)
inline constexpr char kPointPrefix = 'p';
inline constexpr char kSeriesPrefix = 's';
inline constexpr char kMetricIndexPrefix = 'm';
inline constexpr char kSequencePrefix = 'q';
inline constexpr char kMetricInfoPrefix = 'd';

std::string PointKey(uint64_t series_id, int64_t window_start_ns);
std::string SeriesKeyKey(uint64_t series_id);
std::string MetricIndexKey(absl::string_view metric, uint64_t series_id);
std::string SequenceKey(absl::string_view sender_id);
std::string MetricInfoKey(absl::string_view metric);

// Fixed 8-byte big-endian encoding of an unsigned integer.
std::string EncodeUint64(uint64_t v);
// Decodes 8 bytes written by EncodeUint64; false if `bytes` is not 8 long.
bool DecodeUint64(absl::string_view bytes, uint64_t* v);

// The window start of a key made by PointKey; false if it is not one.
bool DecodePointKey(absl::string_view key, uint64_t* series_id, int64_t* window_start_ns);

}  // namespace andon::aggregator
