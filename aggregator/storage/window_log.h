#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "andon/v1/types.pb.h"

namespace andon::aggregator {

// The record that keeps a batch's open windows durable until they are
// rolled up: only the points whose 10 s window is still open, each by its
// series id, not the batch as it arrived. Format: a 0 byte (never the first
// byte of a serialized IngestBatch, which older data dirs logged: field 0 is
// no field), the number of points, the first point's window start in ns,
// then per point its series id (8 bytes, little-endian), its start's
// difference from the previous point's start and its width (durations as
// in raw blocks: in ms when whole, else in ns, the low bit saying which;
// the difference zigzag-coded), its value's length and the serialized
// value. A counter point takes about 14 bytes; the batch it came in took
// about 90 a point.
class WindowLogWriter {
 public:
  void Add(uint64_t series_id, int64_t window_start_ns, int64_t window_ns, const v1::Value& value);
  bool empty() const { return points_ == 0; }
  // The record of the points added.
  std::string Record() const;

 private:
  std::string body_;
  std::string value_;
  int64_t first_start_ns_ = 0;
  int64_t previous_start_ns_ = 0;
  uint64_t points_ = 0;
};

// Whether `record` is in this format (else it is a serialized IngestBatch).
inline bool IsWindowLogRecord(absl::string_view record) {
  return !record.empty() && record.front() == '\0';
}

// Calls `point` for every point of a record in this format; DATA_LOSS if it
// is malformed (after calling it for the points before the fault).
using LoggedPointFn = std::function<void(uint64_t series_id, int64_t window_start_ns,
                                         int64_t window_ns, v1::Value value)>;
absl::Status ReadWindowLog(absl::string_view record, const LoggedPointFn& point);

}  // namespace andon::aggregator
