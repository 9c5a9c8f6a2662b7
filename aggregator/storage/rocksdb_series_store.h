#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/storage/known_series.h"
#include "aggregator/storage/resolution.h"
#include "aggregator/storage/rollup_buffer.h"
#include "aggregator/storage/series_store.h"
#include "common/clock.h"

namespace rocksdb {
class DB;
class Iterator;
class WriteBatch;
}  // namespace rocksdb

namespace andon::aggregator {

class RetentionFilter;
class SeriesGc;

// What one garbage collection forgot.
struct GcCounts {
  int64_t series = 0;
  int64_t senders = 0;
  std::vector<std::string> sender_ids;
};

struct StoreOptions {
  Retention retention;
  // Drives retention; tests pass a fake one.
  const Clock* clock = RealClock::Get();
  // Series ids remembered by ingest, per generation (KnownSeries): about
  // 32 bytes each, so the default holds at most about 64 MiB.
  size_t known_series_per_generation = size_t{1} << 20;
  // A 10 s window is rolled up into the coarser levels this long after it
  // ends; raw windows arriving later are merged into them directly.
  absl::Duration rollup_delay = absl::Seconds(5);
  // Open 10 s windows (series x window) held for roll-up; past it the
  // oldest are rolled up early. About 100 bytes each for a counter.
  size_t max_open_rollups = size_t{1} << 20;
};

// SeriesStore on an embedded RocksDB in one data directory (key layout in
// storage_keys.h). A batch's windows are held in memory (RollupBuffer), and
// logged (window_log.h) in the same write that records its sequence; 5 s
// after a 10 s window ends, each series' raw windows in it are written as
// one raw block and their merged value into the 10 s, 1 min and 1 h levels,
// and the log is trimmed; a restart replays the log. Windows arriving after
// their 10 s window was rolled up merge into the levels directly. A label
// index answers matchers; retention is a compaction filter. Nothing grows in memory with
// the number of series: series keys are read from the index when a query
// needs them, and ingest remembers a bounded set of recent ids.
//
// Thread-safe: ApplyBatch calls are serialized by a mutex (the duplicate
// check and the write must be atomic per sender); reads run concurrently
// with them and with each other.
class RocksDbSeriesStore final : public SeriesStore {
 public:
  // Opens (creating if needed) the store in `dir`, upgrading a data dir of
  // format 1 in place (each step atomic, so an interrupted upgrade resumes).
  // Fails with a message naming the directory, e.g. FAILED_PRECONDITION
  // "data dir X is in use by another andon-aggregator" when another process
  // holds it, or when a newer format is found.
  static absl::StatusOr<std::unique_ptr<RocksDbSeriesStore>> Open(const std::string& dir,
                                                                  StoreOptions options = {});

  ~RocksDbSeriesStore() override;
  RocksDbSeriesStore(const RocksDbSeriesStore&) = delete;
  RocksDbSeriesStore& operator=(const RocksDbSeriesStore&) = delete;

  absl::StatusOr<ApplyResult> ApplyBatch(const v1::IngestBatch& batch) override;
  absl::StatusOr<std::vector<SeriesRef>> SelectSeries(
      absl::string_view metric, const std::vector<LabelMatcher>& matchers) const override;
  absl::Status ScanPoints(Level level, uint64_t series_id, int64_t start_ns, int64_t end_ns,
                          const PointVisitor& visit) const override;
  const Retention& retention() const override { return options_.retention; }
  int64_t rolled_up_until_ns() const override { return rollup_cursor_ns_.load(); }
  StoreStats Stats() const override;
  absl::StatusOr<uint64_t> LastSequence(absl::string_view sender_id) const override;
  absl::Status PutMetricInfo(const v1::MetricInfo& metric) override;
  absl::StatusOr<std::vector<v1::MetricInfo>> LoadMetricInfos() const override;
  absl::StatusOr<std::map<std::string, v1::HostLabels>> LoadHostLabels() const override;

  // Rolls up every open 10 s window starting before `until_ns` (floored to
  // 10 s) now. ApplyBatch does this as windows come due.
  absl::Status RollUpBefore(int64_t until_ns) ABSL_LOCKS_EXCLUDED(apply_mu_);

  // Forgets now every series and sender whose data has all expired
  // (series_gc.h); ApplyBatch does this in steps, a pass an hour. Returns
  // how many of each this call forgot.
  absl::StatusOr<GcCounts> ForgetExpired() ABSL_LOCKS_EXCLUDED(apply_mu_);

  // Compacts the whole store now, dropping expired windows (tests, tools).
  absl::Status CompactAll();

  // The bytes the point windows of each level take in the store's files
  // (RocksDB's estimate; memtables left out), by Level.
  absl::StatusOr<std::array<uint64_t, kLevelCount>> BytesByLevel() const;

  // Flushes and closes the database; later calls fail. Idempotent. Must not
  // race with other calls.
  absl::Status Close();

 private:
  RocksDbSeriesStore(std::string dir, StoreOptions options);

  absl::Status Upgrade();
  // Writes a last-seen hour of now for every series, and for every sender
  // whose sequence has none; returns how many.
  absl::StatusOr<int64_t> StampAll();
  // Writes and clears one atomic step of an upgrade.
  absl::Status FlushUpgrade(rocksdb::WriteBatch& write);
  // One step of garbage collection; true when it ended a pass.
  // Adds what it forgot to `forgot`.
  absl::StatusOr<bool> GcStep(int64_t now_ns, GcCounts* forgot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  absl::StatusOr<uint64_t> ReadLastSequence(absl::string_view sender_id) const;
  // Loads the roll-up cursor (starting one for a new data dir) and rebuilds
  // the open windows after it from the raw level.
  absl::Status LoadRollups();
  absl::Status RollUpBeforeLocked(int64_t until_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Rolls up what is due by the clock, and the oldest windows while more
  // than max_open_rollups are open.
  absl::Status RollUpDue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Adds to `write` a record, under `new_sequence`, of the points of logged
  // batch `sequence` whose 10 s window starts at or after `open_from_ns`;
  // returns how many (none: nothing added), or nullopt if the batch cannot
  // be read.
  std::optional<uint64_t> Relog(uint64_t sequence, int64_t open_from_ns, uint64_t new_sequence,
                                rocksdb::WriteBatch& write)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // The ids under every key starting with `prefix` followed by exactly an id.
  absl::Status ScanIds(const std::string& prefix, std::vector<uint64_t>* ids) const;
  // The ids of the series whose `matcher.name()` label has a value it matches.
  absl::Status ScanRegex(absl::string_view metric, const LabelMatcher& matcher,
                         std::vector<uint64_t>* ids) const;
  // Writes a new series' key, index entries and last-seen `hour` into
  // `write`.
  void AddSeries(rocksdb::WriteBatch& write, uint64_t id, const v1::SeriesKey& key,
                 int64_t hour) const;
  absl::Status ReadError(const std::string& what, const std::string& status) const;

  const std::string dir_;
  const StoreOptions options_;
  std::unique_ptr<RetentionFilter> filter_;  // outlives db_
  std::unique_ptr<rocksdb::DB> db_;

  // Serializes ApplyBatch.
  absl::Mutex apply_mu_;
  KnownSeries known_ ABSL_GUARDED_BY(apply_mu_);
  std::unique_ptr<SeriesGc> gc_ ABSL_GUARDED_BY(apply_mu_);
  int64_t gc_due_ns_ ABSL_GUARDED_BY(apply_mu_) = 0;
  // Each agent's host labels as last written, so that batches repeating them
  // (nearly all) write nothing more.
  absl::flat_hash_map<std::string, std::map<std::string, std::string>> host_labels_written_
      ABSL_GUARDED_BY(apply_mu_);
  // Each sender's last applied sequence, as stored (a read per batch saved).
  mutable absl::Mutex sequences_mu_;
  mutable absl::flat_hash_map<std::string, uint64_t> sequences_ ABSL_GUARDED_BY(sequences_mu_);
  // Logged batches not yet rolled up, oldest first, with the newest 10 s
  // window each holds in rollups_.
  struct Logged {
    uint64_t sequence = 0;
    int64_t newest_block_ns = 0;
  };
  std::deque<Logged> log_ ABSL_GUARDED_BY(apply_mu_);
  uint64_t next_log_sequence_ ABSL_GUARDED_BY(apply_mu_) = 1;
  // The window whose roll-up was cut off before this process started: some
  // of its series are on disk already, and new windows for them merge.
  int64_t resumed_window_ns_ ABSL_GUARDED_BY(apply_mu_) = std::numeric_limits<int64_t>::min();
  // Changed with apply_mu_ held too, so ApplyBatch and the roll-up read it
  // without this lock; queries read it with it.
  mutable absl::Mutex buffer_mu_ ABSL_ACQUIRED_AFTER(apply_mu_);
  RollupBuffer rollups_;
  std::atomic<int64_t> rollup_cursor_ns_{0};
  // For Stats(), set with apply_mu_ held.
  std::atomic<int64_t> open_windows_{0};
  std::atomic<int64_t> logged_batches_{0};
  void UpdateStats() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
};

}  // namespace andon::aggregator
