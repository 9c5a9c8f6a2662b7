#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "aggregator/storage/resolution.h"

namespace andon::aggregator {

// The key layout of the aggregator's data directory (formats 2 and 3). Integers are
// big-endian so that byte order is numeric order: one series at one level
// over a time range is one range scan.
//   'P' + level + series_id + window_start
//                                   -> at the raw level: the series' raw
//                                      windows of one 10 s block (raw_block.h);
//                                      else a serialized v1::Value; either
//                                      merged in place
//   'w' + log sequence              -> an ingest batch not yet rolled up
//   's' + series_id                 -> serialized v1::SeriesKey
//   'a' + series_id                 -> the hour (since 1970) the series was
//                                      last seen by ingest, within a day
//   'm' + metric + '\0' + series_id -> ""   (the series of a metric)
//   'l' + metric + '\0' + label + '\0' + value + '\0' + series_id
//                                   -> ""   (the series with a label value)
//   'q' + sender_id                 -> last applied sequence, and the hour
//                                      of that batch (EncodeSequence)
//   'd' + metric                    -> serialized v1::MetricInfo (declared metrics)
//   'h' + sender_id                 -> serialized v1::HostLabels: an agent's
//                                      labels as of its last applied batch
//   'F'                             -> format version
//   'R'                             -> roll-up cursor: every 10 s window
//                                      starting before it is rolled up
//   'Rp'                            -> window + last series id rolled up of
//                                      the window at the cursor
// Format 4 added the 'a' entries and the hour in 'q'; they let a series or
// sender whose data has all expired be forgotten (series_gc.h).
// Format 1 had no levels and no label index: 'p' + series_id + window_start
// held 1 s windows. RocksDbSeriesStore::Open() upgrades it.
inline constexpr char kPointPrefix = 'P';
inline constexpr char kLegacyPointPrefix = 'p';
inline constexpr char kSeriesPrefix = 's';
inline constexpr char kLastSeenPrefix = 'a';
inline constexpr char kMetricIndexPrefix = 'm';
inline constexpr char kLabelIndexPrefix = 'l';
inline constexpr char kSequencePrefix = 'q';
inline constexpr char kMetricInfoPrefix = 'd';
inline constexpr char kHostLabelsPrefix = 'h';
inline constexpr char kFormatKey[] = "F";
inline constexpr char kRollupCursorKey[] = "R";
// How far the roll-up of the window at the cursor got when it was cut off.
inline constexpr char kRollupProgressKey[] = "Rp";
inline constexpr char kLogPrefix = 'w';
std::string LogKey(uint64_t log_sequence);
// 3: raw blocks of counters may be in columns (raw_block.h); format 2 had
// rows only and upgrades by rewriting this number. 4: last-seen hours.
inline constexpr uint64_t kFormatVersion = 4;

// A point key; at the raw level, `window_start_ns` is the 10 s block's.
std::string PointKey(Level level, uint64_t series_id, int64_t window_start_ns);

struct DecodedPointKey {
  Level level = Level::kRaw;
  uint64_t series_id = 0;
  int64_t window_start_ns = 0;
  int64_t window_ns = 0;  // the level's width; 10 s for raw blocks
};
// False if `key` is not a point key.
bool DecodePointKey(absl::string_view key, DecodedPointKey* out);

// Format 1's point key, for the upgrade.
std::string LegacyPointKey(uint64_t series_id, int64_t window_start_ns);
bool DecodeLegacyPointKey(absl::string_view key, uint64_t* series_id, int64_t* window_start_ns);

std::string SeriesKeyKey(uint64_t series_id);
std::string MetricIndexKey(absl::string_view metric, uint64_t series_id);
std::string MetricIndexPrefix(absl::string_view metric);
std::string LabelIndexKey(absl::string_view metric, absl::string_view label,
                          absl::string_view value, uint64_t series_id);
// Every posting of one label of a metric; with `value`, of that value only.
std::string LabelIndexPrefix(absl::string_view metric, absl::string_view label);
std::string LabelValuePrefix(absl::string_view metric, absl::string_view label,
                             absl::string_view value);
// The series id at the end of a metric or label index key (its last 8 bytes).
bool DecodeIndexSeriesId(absl::string_view key, uint64_t* series_id);
std::string SequenceKey(absl::string_view sender_id);
std::string LastSeenKey(uint64_t series_id);
// The hour since 1970 that holds `time_ns`.
int64_t HourOf(int64_t time_ns);
// A sender's last applied sequence and the hour it was applied.
std::string EncodeSequence(uint64_t sequence, int64_t hour);
// Reads what EncodeSequence wrote, or a sequence alone (formats 1 to 3:
// `hour` is then -1); false if `bytes` is neither.
bool DecodeSequence(absl::string_view bytes, uint64_t* sequence, int64_t* hour);
std::string MetricInfoKey(absl::string_view metric);
std::string HostLabelsKey(absl::string_view sender_id);

// Fixed 8-byte big-endian encoding of an unsigned integer.
std::string EncodeUint64(uint64_t v);
// Decodes 8 bytes written by EncodeUint64; false if `bytes` is not 8 long.
bool DecodeUint64(absl::string_view bytes, uint64_t* v);

}  // namespace andon::aggregator
