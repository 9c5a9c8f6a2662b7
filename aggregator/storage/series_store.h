#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/storage/resolution.h"
#include "andon/v1/ingest.pb.h"
#include "andon/v1/types.pb.h"
#include "common/label_matcher.h"

namespace andon::aggregator {

// A series known to the store: its stable id and canonical key.
struct SeriesRef {
  uint64_t id = 0;
  v1::SeriesKey key;
};

// One stored window of one series.
struct StoredPoint {
  int64_t window_start_ns = 0;
  int64_t window_ns = 0;
  v1::Value value;
};

// What ApplyBatch did with a batch.
struct ApplyResult {
  // True when the batch's sequence was not above the sender's last applied
  // sequence: nothing was written.
  bool duplicate = false;
  // The sender's highest applied sequence after this call.
  uint64_t last_sequence = 0;
  // Points written (0 for a duplicate).
  int64_t points_applied = 0;
  // Points left out because their series' id is taken by another series (a
  // 64-bit hash collision: vanishingly rare, but never merged into the
  // wrong series).
  int64_t points_collided = 0;
  // Of points_applied, those that came after their 10 s window was written
  // (rolled up): merged into the stored windows instead of held in memory.
  int64_t points_late = 0;
  // Series and senders whose data had all expired, forgotten by the store's
  // garbage collection in this call (series_gc.h).
  int64_t series_forgotten = 0;
  int64_t senders_forgotten = 0;
  std::vector<std::string> forgotten_senders;  // their ids
};

// The store's own health, for /metrics.
struct StoreStats {
  int64_t open_windows = 0;    // series x 10 s windows held in memory for roll-up
  int64_t logged_batches = 0;  // batches kept logged until their windows roll up
  int64_t rolled_up_until_ns = 0;
};

// Where the aggregator keeps series and their windows. Implementations hide
// the storage engine; the rest of the aggregator sees only this interface.
// All methods are thread-safe.
class SeriesStore {
 public:
  virtual ~SeriesStore() = default;

  // Applies every point of an already validated batch and records the
  // sender's sequence, in one atomic write: either all of it is stored or
  // none. Points of a window already stored merge with it (counters add).
  // Each point is stored at the raw level, and later merged into the 10 s,
  // 1 min and 1 h windows that hold it (see rolled_up_until_ns()).
  // A batch whose sequence is <= the sender's stored last sequence is a
  // duplicate: applied zero times and reported as such. Fails (storing
  // nothing) when the storage engine cannot write.
  virtual absl::StatusOr<ApplyResult> ApplyBatch(const v1::IngestBatch& batch) = 0;

  // The series of `metric` that every matcher matches, in id order, read
  // from the label index (not from memory): equality and regex matchers
  // narrow the candidates through it; the rest filter them. Fails when the
  // storage engine cannot read.
  virtual absl::StatusOr<std::vector<SeriesRef>> SelectSeries(
      absl::string_view metric, const std::vector<LabelMatcher>& matchers) const = 0;

  // Calls `visit` with each window of one series at `level` whose start lies
  // in [start_ns, end_ns), in time order, without holding them all in
  // memory; stops early when `visit` returns false. Fails when the storage
  // engine cannot read.
  using PointVisitor =
      std::function<bool(int64_t window_start_ns, int64_t window_ns, const v1::Value& value)>;
  virtual absl::Status ScanPoints(Level level, uint64_t series_id, int64_t start_ns, int64_t end_ns,
                                  const PointVisitor& visit) const = 0;

  // How long each level is kept.
  virtual const Retention& retention() const = 0;

  // Raw windows are rolled up into the coarser levels a few seconds after
  // their 10 s window ends. A coarse window starting before this time
  // floored to its width holds all of its raw windows; from there on, read
  // the raw level.
  virtual int64_t rolled_up_until_ns() const = 0;

  virtual StoreStats Stats() const = 0;

  // The same windows, collected. For small ranges (tests, tools).
  absl::StatusOr<std::vector<StoredPoint>> ReadPoints(uint64_t series_id, int64_t start_ns,
                                                      int64_t end_ns,
                                                      Level level = Level::kRaw) const {
    std::vector<StoredPoint> points;
    absl::Status s = ScanPoints(level, series_id, start_ns, end_ns,
                                [&](int64_t t, int64_t w, const v1::Value& v) {
                                  points.push_back({t, w, v});
                                  return true;
                                });
    if (!s.ok()) return s;
    return points;
  }

  // Keeps a declared metric's descriptor (replacing an older one of the same
  // name), so that a restarted aggregator still answers for its series.
  virtual absl::Status PutMetricInfo(const v1::MetricInfo& metric) = 0;
  // Every descriptor kept by PutMetricInfo.
  virtual absl::StatusOr<std::vector<v1::MetricInfo>> LoadMetricInfos() const = 0;

  // Each agent's host labels as of its newest applied batch that carried
  // them (IngestBatch.host_labels; kept by ApplyBatch in the same write), by
  // sender id, so that a restarted forwarder labels rebuilt windows as the
  // live one did.
  virtual absl::StatusOr<std::map<std::string, v1::HostLabels>> LoadHostLabels() const = 0;

  // The highest sequence applied for `sender_id`, 0 if none.
  virtual absl::StatusOr<uint64_t> LastSequence(absl::string_view sender_id) const = 0;
};

}  // namespace andon::aggregator
