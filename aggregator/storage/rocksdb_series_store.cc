#include "aggregator/storage/rocksdb_series_store.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/storage/raw_block.h"
#include "aggregator/storage/retention_filter.h"
#include "aggregator/storage/series_gc.h"
#include "aggregator/storage/storage_keys.h"
#include "aggregator/storage/value_merge_operator.h"
#include "aggregator/storage/window_log.h"
#include "common/log.h"
#include "common/series_key.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace andon::aggregator {
namespace {

// Series keys are read in chunks of this many per MultiGet.
constexpr size_t kMultiGetChunk = 1024;
// The upgrade writes this many windows per atomic batch.
constexpr int kUpgradeBatch = 10000;
// Format 1 kept only 1 s windows.
constexpr int64_t kLegacyWindowNs = 1'000'000'000;

absl::Status OpenError(const std::string& dir, const rocksdb::Status& s) {
  // RocksDB reports a held LOCK file as an IO error mentioning the lock.
  if (s.IsIOError() && absl::StrContains(absl::AsciiStrToLower(s.ToString()), "lock")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", dir, " is in use by another andon-aggregator (", s.ToString(), ")"));
  }
  return absl::UnavailableError(absl::StrCat("cannot open data dir ", dir, ": ", s.ToString()));
}

int64_t FloorTo(int64_t t, int64_t width) {
  const int64_t r = t % width;
  return r < 0 ? t - r - width : t - r;
}

constexpr int64_t k10sNs = int64_t{10} * 1000 * 1000 * 1000;

// Merges a value into the 10 s, 1 min and 1 h windows holding `start_ns`.
void AddCoarse(rocksdb::WriteBatch& write, uint64_t id, int64_t start_ns,
               const rocksdb::Slice& value) {
  for (Level level : {Level::k10s, Level::k1m, Level::k1h}) {
    write.Merge(PointKey(level, id, FloorTo(start_ns, LevelWidthNs(level))), value);
  }
}

// Cursor values are stored sign-flipped, like window starts in keys.
std::string EncodeTime(int64_t ns) {
  return EncodeUint64(static_cast<uint64_t>(ns) ^ (uint64_t{1} << 63));
}
int64_t DecodeTime(uint64_t bits) { return static_cast<int64_t>(bits ^ (uint64_t{1} << 63)); }

// Series rolled up per atomic write.
constexpr size_t kRollupChunk = 10000;
// Senders whose last sequence is remembered (about 100 bytes each); past
// it the memory starts over and reads the store again.
constexpr size_t kMaxCachedSequences = 100000;

// A series' last-seen entry is written again a day after the last (and,
// for a series first found in the store, within a day, at an hour of its
// own, so that a restart does not bunch them all into one hour each day).
constexpr int64_t kStampEveryHours = 24;
// Garbage collection: a pass an hour, in steps of this many entries, one per
// applied batch.
constexpr absl::Duration kGcEvery = absl::Hours(1);
constexpr size_t kGcStep = 4096;

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

// Calls `point` for every point of a logged batch, in either format: the
// window log's, or a whole IngestBatch as older versions logged it.
absl::Status ForEachLoggedPoint(absl::string_view record, const LoggedPointFn& point) {
  if (IsWindowLogRecord(record)) return ReadWindowLog(record, point);
  v1::IngestBatch batch;
  if (!batch.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
    return absl::DataLossError("not a window log record or a batch");
  }
  v1::SeriesKey key;
  for (const v1::Point& p : batch.points()) {
    key = p.series();
    CanonicalizeSeriesKey(key);
    point(SeriesId(key), p.window_start_ns(), p.window_ns(), p.value());
  }
  return absl::OkStatus();
}

std::vector<uint64_t> Intersect(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbSeriesStore>> RocksDbSeriesStore::Open(
    const std::string& dir, StoreOptions store_options) {
  if (dir.empty()) return absl::InvalidArgumentError("data dir is empty");
  ANDON_RETURN_IF_ERROR(store_options.retention.Check());
  std::unique_ptr<RocksDbSeriesStore> store(new RocksDbSeriesStore(dir, store_options));
  store->filter_ = std::make_unique<RetentionFilter>(store_options.retention, store_options.clock);

  rocksdb::Options options;
  options.create_if_missing = true;
  options.merge_operator = std::make_shared<ValueMergeOperator>();
  options.compaction_filter = store->filter_.get();
  // Files that see no writes are still compacted, so expired windows go.
  options.periodic_compaction_seconds = static_cast<uint64_t>(
      std::clamp<int64_t>(absl::ToInt64Seconds(store_options.retention.raw), 3600, 24 * 3600));
  // No per-series insert hint for the memtable: windows are written at
  // roll-up, level by level in key order, so the skip list's own splice from
  // the previous insert is the nearest place; a series' hint was 10 s stale,
  // and keeping one per series and level cost a hash map of millions of
  // entries (ingest_bench: 240k -> 325k points per server CPU-second).
  options.compression = rocksdb::kLZ4Compression;
  options.bottommost_compression = rocksdb::kZSTD;
  rocksdb::BlockBasedTableOptions table;
  // Series lookups at ingest are mostly for ids that are absent or cached:
  // a bloom filter keeps the absent ones off the disk.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Large blocks, and few restart points in them: the keys of one series'
  // windows share all but their last bytes, and a compressor sees sixteen
  // times more of them at once. Reads are range scans of a series or an
  // index, or Gets that a bloom filter or the in-memory caches answer; a
  // scan of many series over a short range reads a 64 KiB block for each
  // series not in the block cache. bench/storage_bytes, bytes per point (all
  // levels): random counters 4.06 -> 2.93, steady ones 2.57 -> 1.46, where
  // Prometheus takes 2.80 and 1.49. (ZSTD at level 9 at the bottommost
  // level saves 3-8 % more but doubles the compaction CPU of distributions.)
  table.block_size = 64 << 10;
  table.block_restart_interval = 128;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return OpenError(dir, s);
  store->db_.reset(raw);
  store->gc_ = std::make_unique<SeriesGc>(raw, dir, store_options.retention);
  ANDON_RETURN_IF_ERROR(store->Upgrade());
  ANDON_RETURN_IF_ERROR(store->LoadRollups());
  return store;
}

RocksDbSeriesStore::RocksDbSeriesStore(std::string dir, StoreOptions options)
    : dir_(std::move(dir)), options_(options), known_(options.known_series_per_generation) {}

RocksDbSeriesStore::~RocksDbSeriesStore() { Close().IgnoreError(); }

absl::Status RocksDbSeriesStore::Close() {
  if (db_ == nullptr) return absl::OkStatus();
  gc_.reset();
  rocksdb::Status s = db_->Close();
  db_.reset();
  if (!s.ok())
    return absl::InternalError(absl::StrCat("closing data dir ", dir_, ": ", s.ToString()));
  return absl::OkStatus();
}

absl::Status RocksDbSeriesStore::ReadError(const std::string& what,
                                           const std::string& status) const {
  return absl::UnavailableError(
      absl::StrCat("reading ", what, " from data dir ", dir_, ": ", status));
}

void RocksDbSeriesStore::AddSeries(rocksdb::WriteBatch& write, uint64_t id,
                                   const v1::SeriesKey& key, int64_t hour) const {
  write.Put(SeriesKeyKey(id), key.SerializeAsString());
  write.Put(LastSeenKey(id), EncodeUint64(static_cast<uint64_t>(hour)));
  write.Put(MetricIndexKey(key.metric(), id), "");
  for (const v1::Label& label : key.labels()) {
    write.Put(LabelIndexKey(key.metric(), label.name(), label.value(), id), "");
  }
}

absl::Status RocksDbSeriesStore::Upgrade() {
  std::string version;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kFormatKey, &version);
  if (s.ok()) {
    uint64_t v = 0;
    if (!DecodeUint64(version, &v)) {
      return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt format version"));
    }
    if (v > kFormatVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("data dir ", dir_, " has format ", v,
                       ", written by a newer andon-aggregator; this one "
                       "reads format ",
                       kFormatVersion, " (run the newer version, or give another --data_dir)"));
    }
    if (v < kFormatVersion) {
      // Format 2 differs from 3 only in writing no raw blocks in counter
      // columns, which this version reads along with its rows; 3 from 4 in
      // having no last-seen hours, which the upgrade writes (as now) for
      // every series and sender. The new number also keeps older versions
      // off this data dir.
      ANDON_ASSIGN_OR_RETURN(int64_t stamped, StampAll());
      rocksdb::WriteOptions options;
      options.sync = true;
      rocksdb::Status w = db_->Put(options, kFormatKey, EncodeUint64(kFormatVersion));
      if (!w.ok()) {
        return absl::UnavailableError(
            absl::StrCat("upgrading data dir ", dir_, ": ", w.ToString()));
      }
      ANDON_LOG(INFO) << "data dir " << dir_ << " is now format " << kFormatVersion << " ("
                      << stamped
                      << " series and senders stamped as seen now, so that those never seen "
                         "again are forgotten once their data expires)";
    }
    return absl::OkStatus();
  }
  if (!s.IsNotFound()) return ReadError("the format version", s.ToString());

  // Format 1 (or a new, empty directory): index every series' labels, then
  // move every window onto the levels. Each batch moves windows and deletes
  // their old keys atomically, so an interrupted upgrade resumes where it
  // stopped and counts nothing twice.
  int64_t series = 0;
  int64_t windows = 0;
  rocksdb::WriteBatch write;
  auto flush = [&] { return FlushUpgrade(write); };
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    const std::string prefix(1, kSeriesPrefix);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      uint64_t id = 0;
      v1::SeriesKey key;
      if (!DecodeUint64(View(it->key()).substr(1), &id) ||
          !key.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt series entry ",
                                                it->key().ToString(/*hex=*/true)));
      }
      AddSeries(write, id, key, HourOf(absl::ToUnixNanos(options_.clock->Now())));
      if (++series % kUpgradeBatch == 0) ANDON_RETURN_IF_ERROR(flush());
    }
    if (!it->status().ok()) return ReadError("series", it->status().ToString());
    ANDON_RETURN_IF_ERROR(flush());
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    const std::string prefix(1, kLegacyPointPrefix);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      uint64_t id = 0;
      int64_t start = 0;
      if (!DecodeLegacyPointKey(View(it->key()), &id, &start)) {
        return absl::DataLossError(
            absl::StrCat("data dir ", dir_, ": corrupt point ", it->key().ToString(/*hex=*/true)));
      }
      v1::Value value;
      if (!value.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(
            absl::StrCat("data dir ", dir_, ": corrupt point ", it->key().ToString(/*hex=*/true)));
      }
      const int64_t block = FloorTo(start, k10sNs);
      write.Merge(PointKey(Level::kRaw, id, block),
                  EncodeRawBlock(block, {RawWindow{start, kLegacyWindowNs, value}}));
      AddCoarse(write, id, start, it->value());
      write.Delete(it->key());
      if (++windows % kUpgradeBatch == 0) ANDON_RETURN_IF_ERROR(flush());
    }
    if (!it->status().ok()) return ReadError("points", it->status().ToString());
  }
  ANDON_RETURN_IF_ERROR(flush());
  ANDON_RETURN_IF_ERROR(StampAll().status());
  write.Put(kFormatKey, EncodeUint64(kFormatVersion));
  ANDON_RETURN_IF_ERROR(flush());
  if (series > 0 || windows > 0) {
    ANDON_LOG(INFO) << "upgraded data dir " << dir_ << " to format " << kFormatVersion << ": "
                    << series << " series indexed by label, " << windows
                    << " windows moved onto the raw, 10s, 1m and 1h levels";
  }
  return absl::OkStatus();
}

absl::Status RocksDbSeriesStore::FlushUpgrade(rocksdb::WriteBatch& write) {
  if (write.Count() == 0) return absl::OkStatus();
  rocksdb::Status w = db_->Write(rocksdb::WriteOptions(), &write);
  write.Clear();
  if (!w.ok()) {
    return absl::UnavailableError(absl::StrCat("upgrading data dir ", dir_, ": ", w.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RocksDbSeriesStore::StampAll() {
  const int64_t hour = HourOf(absl::ToUnixNanos(options_.clock->Now()));
  const std::string stamp = EncodeUint64(static_cast<uint64_t>(hour));
  int64_t stamped = 0;
  rocksdb::WriteBatch write;
  auto flush = [&] { return FlushUpgrade(write); };
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (const char p : {kSeriesPrefix, kSequencePrefix}) {
    const std::string prefix(1, p);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (p == kSeriesPrefix) {
        uint64_t id = 0;
        if (!DecodeUint64(View(it->key()).substr(1), &id)) {
          return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt series entry ",
                                                  it->key().ToString(/*hex=*/true)));
        }
        write.Put(LastSeenKey(id), stamp);
      } else {
        uint64_t seq = 0;
        int64_t seen = 0;
        if (!DecodeSequence(View(it->value()), &seq, &seen)) {
          return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt sequence of '",
                                                  it->key().ToString().substr(1), "'"));
        }
        if (seen >= 0) continue;
        write.Put(it->key(), EncodeSequence(seq, hour));
      }
      if (++stamped % kUpgradeBatch == 0) ANDON_RETURN_IF_ERROR(flush());
    }
    if (!it->status().ok()) return ReadError("series and senders", it->status().ToString());
  }
  ANDON_RETURN_IF_ERROR(flush());
  return stamped;
}

absl::StatusOr<uint64_t> RocksDbSeriesStore::LastSequence(absl::string_view sender_id) const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  {
    absl::MutexLock lock(&sequences_mu_);
    if (auto it = sequences_.find(sender_id); it != sequences_.end()) return it->second;
  }
  ANDON_ASSIGN_OR_RETURN(uint64_t seq, ReadLastSequence(sender_id));
  absl::MutexLock lock(&sequences_mu_);
  if (sequences_.size() >= kMaxCachedSequences) sequences_.clear();
  return sequences_.try_emplace(sender_id, seq).first->second;
}

absl::StatusOr<uint64_t> RocksDbSeriesStore::ReadLastSequence(absl::string_view sender_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), SequenceKey(sender_id), &value);
  if (s.IsNotFound()) return 0;
  uint64_t seq = 0;
  int64_t hour = 0;
  if (!s.ok()) return ReadError("a sequence", s.ToString());
  if (!DecodeSequence(value, &seq, &hour)) {
    return absl::DataLossError(
        absl::StrCat("data dir ", dir_, ": corrupt sequence for sender '", sender_id, "'"));
  }
  return seq;
}

absl::Status RocksDbSeriesStore::PutMetricInfo(const v1::MetricInfo& metric) {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status s = db_->Put(options, MetricInfoKey(metric.name()), metric.SerializeAsString());
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("writing data dir ", dir_, ": ", s.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::MetricInfo>> RocksDbSeriesStore::LoadMetricInfos() const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  std::vector<v1::MetricInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(1, kMetricInfoPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::MetricInfo m;
    if (!m.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt metric descriptor '",
                                              it->key().ToString(), "'"));
    }
    out.push_back(std::move(m));
  }
  if (!it->status().ok()) return ReadError("metric descriptors", it->status().ToString());
  return out;
}

absl::StatusOr<std::map<std::string, v1::HostLabels>> RocksDbSeriesStore::LoadHostLabels() const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  std::map<std::string, v1::HostLabels> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(1, kHostLabelsPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::HostLabels labels;
    if (!labels.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("data dir ", dir_, ": corrupt host labels '", it->key().ToString(), "'"));
    }
    out[it->key().ToString().substr(1)] = std::move(labels);
  }
  if (!it->status().ok()) return ReadError("host labels", it->status().ToString());
  return out;
}

absl::StatusOr<ApplyResult> RocksDbSeriesStore::ApplyBatch(const v1::IngestBatch& batch) {
  if (batch.sender_id().empty()) return absl::InvalidArgumentError("batch has no sender_id");
  absl::MutexLock lock(&apply_mu_);
  ANDON_ASSIGN_OR_RETURN(uint64_t last, LastSequence(batch.sender_id()));
  ApplyResult result;
  if (batch.sequence() <= last) {
    result.duplicate = true;
    result.last_sequence = last;
    return result;
  }

  rocksdb::WriteBatch write;
  const int64_t now_ns = absl::ToUnixNanos(options_.clock->Now());
  const int64_t hour = HourOf(now_ns);
  const std::string stamp = EncodeUint64(static_cast<uint64_t>(hour));
  std::vector<uint64_t> added;  // remembered now; forgotten again if the write fails
  // Raw windows whose 10 s window is still open: into rollups_ once the
  // batch is logged.
  std::vector<std::pair<const v1::Point*, uint64_t>> open;
  const int64_t cursor = rollup_cursor_ns_.load();
  int64_t newest_open = std::numeric_limits<int64_t>::min();
  std::string stored;
  WindowLogWriter logged;
  // Each point's canonical key and id, once, fetching the id's entry
  // meanwhile: the lookups below then mostly hit the cache instead of
  // missing it one point after another. Agents send labels sorted; only a key
  // that is not is copied to sort (a deque, so the keys stay where they are).
  std::deque<v1::SeriesKey> sorted;
  std::vector<const v1::SeriesKey*> keys(static_cast<size_t>(batch.points_size()));
  std::vector<uint64_t> ids(keys.size());
  for (int i = 0; i < batch.points_size(); ++i) {
    const v1::SeriesKey& series = batch.points(i).series();
    if (IsCanonicalSeriesKey(series)) {
      keys[i] = &series;
    } else {
      CanonicalizeSeriesKey(sorted.emplace_back(series));
      keys[i] = &sorted.back();
    }
    ids[i] = SeriesId(*keys[i]);
    known_.Prefetch(ids[i]);
  }
  for (int i = 0; i < batch.points_size(); ++i) {
    const v1::Point& point = batch.points(i);
    const v1::SeriesKey& key = *keys[i];
    const uint64_t id = ids[i];
    const uint64_t fingerprint = SeriesFingerprint(key);
    KnownSeries::Found found = known_.Find(id, fingerprint);
    if (found == KnownSeries::Found::kUnknown) {
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), SeriesKeyKey(id), &stored);
      if (s.ok()) {
        v1::SeriesKey other;
        if (!other.ParseFromString(stored)) {
          for (uint64_t a : added) known_.Erase(a);
          return absl::DataLossError(
              absl::StrCat("data dir ", dir_, ": corrupt series entry for id ", id));
        }
        const uint64_t other_fingerprint = SeriesFingerprint(other);
        // When it was last seen is not known here: seen now.
        known_.Insert(id, other_fingerprint,
                      hour + 1 + static_cast<int64_t>(id % kStampEveryHours));
        write.Put(LastSeenKey(id), stamp);
        found = other_fingerprint == fingerprint ? KnownSeries::Found::kSame
                                                 : KnownSeries::Found::kOther;
        if (found == KnownSeries::Found::kOther) {
          ANDON_LOG(ERROR) << "series " << SeriesKeyToString(key) << " has the id " << id
                           << " of the stored series " << SeriesKeyToString(other)
                           << ": its points are left out";
        }
      } else if (s.IsNotFound()) {
        AddSeries(write, id, key, hour);
        known_.Insert(id, fingerprint, hour + kStampEveryHours);
        added.push_back(id);
        found = KnownSeries::Found::kSame;
      } else {
        for (uint64_t a : added) known_.Erase(a);
        return ReadError("a series", s.ToString());
      }
    }
    if (found == KnownSeries::Found::kOther) {
      ++result.points_collided;
      continue;
    }
    if (known_.StampDue(id, hour, kStampEveryHours)) write.Put(LastSeenKey(id), stamp);
    const int64_t block = FloorTo(point.window_start_ns(), k10sNs);
    if (block >= cursor) {
      open.emplace_back(&point, id);
      logged.Add(id, point.window_start_ns(), point.window_ns(), point.value());
      newest_open = std::max(newest_open, block);
    } else {
      // Late: its 10 s window is rolled up already; merge into the levels.
      const std::string raw = EncodeRawBlock(
          block, {RawWindow{point.window_start_ns(), point.window_ns(), point.value()}});
      write.Merge(PointKey(Level::kRaw, id, block), raw);
      AddCoarse(write, id, point.window_start_ns(), point.value().SerializeAsString());
      ++result.points_late;
    }
    ++result.points_applied;
  }
  // Windows held in memory are kept durable by logging the batch until they
  // are rolled up.
  const uint64_t log_sequence = next_log_sequence_;
  if (!open.empty()) write.Put(LogKey(log_sequence), logged.Record());
  write.Put(SequenceKey(batch.sender_id()), EncodeSequence(batch.sequence(), hour));
  // With the batch, so that a duplicate (written nothing) never replaces
  // newer labels with those of an older batch.
  std::map<std::string, std::string> labels;
  bool labels_changed = false;
  if (batch.has_host_labels()) {
    labels.insert(batch.host_labels().labels().begin(), batch.host_labels().labels().end());
    auto written = host_labels_written_.find(batch.sender_id());
    labels_changed = written == host_labels_written_.end() || written->second != labels;
    if (labels_changed) {
      write.Put(HostLabelsKey(batch.sender_id()), batch.host_labels().SerializeAsString());
    }
  }

  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &write);
  if (!s.ok()) {
    for (uint64_t a : added) known_.Erase(a);
    return absl::UnavailableError(absl::StrCat("writing to data dir ", dir_, ": ", s.ToString()));
  }
  result.last_sequence = batch.sequence();
  if (labels_changed) {
    if (host_labels_written_.size() >= kMaxCachedSequences) host_labels_written_.clear();
    host_labels_written_[batch.sender_id()] = std::move(labels);
  }
  {
    absl::MutexLock cache(&sequences_mu_);
    if (sequences_.size() >= kMaxCachedSequences) sequences_.clear();
    sequences_[batch.sender_id()] = batch.sequence();
  }
  if (!open.empty()) {
    ++next_log_sequence_;
    log_.push_back({log_sequence, newest_open});
    absl::MutexLock buffer(&buffer_mu_);
    for (const auto& [point, id] : open) {
      rollups_.Prefetch(id, FloorTo(point->window_start_ns(), k10sNs));
    }
    for (const auto& [point, id] : open) {
      absl::Status added_window =
          rollups_.Add(id, FloorTo(point->window_start_ns(), k10sNs),
                       RawWindow{point->window_start_ns(), point->window_ns(), point->value()});
      if (!added_window.ok()) {
        ANDON_LOG(ERROR) << "keeping a window of " << SeriesKeyToString(point->series()) << ": "
                         << added_window.message();
      }
    }
  }
  if (absl::Status due = RollUpDue(); !due.ok()) {
    // The batch is stored (logged); its windows stay open and roll up later.
    ANDON_LOG(ERROR) << "rolling up windows: " << due.message();
  }
  if (now_ns >= gc_due_ns_) {
    GcCounts forgot;
    absl::StatusOr<bool> done = GcStep(now_ns, &forgot);
    result.series_forgotten = forgot.series;
    result.senders_forgotten = forgot.senders;
    result.forgotten_senders = std::move(forgot.sender_ids);
    if (!done.ok()) {
      ANDON_LOG(ERROR) << "forgetting expired series: " << done.status().message();
      gc_due_ns_ = now_ns + absl::ToInt64Nanoseconds(kGcEvery);
    } else if (*done) {
      gc_due_ns_ = now_ns + absl::ToInt64Nanoseconds(kGcEvery);
    }
  }
  UpdateStats();
  return result;
}

absl::StatusOr<bool> RocksDbSeriesStore::GcStep(int64_t now_ns, GcCounts* forgot) {
  ANDON_ASSIGN_OR_RETURN(SeriesGc::Step step, gc_->RunStep(now_ns, kGcStep));
  for (uint64_t id : step.series) known_.Erase(id);
  if (!step.senders.empty()) {
    absl::MutexLock cache(&sequences_mu_);
    for (const std::string& sender : step.senders) {
      sequences_.erase(sender);
      host_labels_written_.erase(sender);
    }
  }
  forgot->series += static_cast<int64_t>(step.series.size());
  forgot->senders += static_cast<int64_t>(step.senders.size());
  forgot->sender_ids.insert(forgot->sender_ids.end(), step.senders.begin(), step.senders.end());
  if (!step.series.empty() || !step.senders.empty()) {
    ANDON_LOG(INFO) << "forgot " << step.series.size() << " series and " << step.senders.size()
                    << " senders not seen since before hour " << gc_->CutoffHour(now_ns)
                    << " (all their data expired)";
  }
  return step.pass_done;
}

absl::StatusOr<GcCounts> RocksDbSeriesStore::ForgetExpired() {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  absl::MutexLock lock(&apply_mu_);
  const int64_t now_ns = absl::ToUnixNanos(options_.clock->Now());
  GcCounts forgot;
  // Finishes a pass under way, then makes a whole one.
  for (int passes = 0; passes < 2;) {
    ANDON_ASSIGN_OR_RETURN(bool done, GcStep(now_ns, &forgot));
    if (done) ++passes;
  }
  gc_due_ns_ = now_ns + absl::ToInt64Nanoseconds(kGcEvery);
  return forgot;
}

void RocksDbSeriesStore::UpdateStats() {
  open_windows_ = static_cast<int64_t>(rollups_.size());
  logged_batches_ = static_cast<int64_t>(log_.size());
}

StoreStats RocksDbSeriesStore::Stats() const {
  return StoreStats{.open_windows = open_windows_.load(),
                    .logged_batches = logged_batches_.load(),
                    .rolled_up_until_ns = rollup_cursor_ns_.load()};
}

absl::Status RocksDbSeriesStore::LoadRollups() {
  std::string stored;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kRollupCursorKey, &stored);
  if (s.IsNotFound()) {
    // A new data dir, or one whose levels were all written directly: windows
    // from the next 10 s on are held for roll-up here.
    const int64_t cursor = FloorTo(absl::ToUnixNanos(options_.clock->Now()), k10sNs) + k10sNs;
    s = db_->Put(rocksdb::WriteOptions(), kRollupCursorKey, EncodeTime(cursor));
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat("writing data dir ", dir_, ": ", s.ToString()));
    }
    rollup_cursor_ns_ = cursor;
    return absl::OkStatus();
  }
  if (!s.ok()) return ReadError("the roll-up cursor", s.ToString());
  uint64_t bits = 0;
  if (!DecodeUint64(stored, &bits)) {
    return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt roll-up cursor"));
  }
  const int64_t cursor = DecodeTime(bits);
  rollup_cursor_ns_ = cursor;
  // A roll-up cut off in the middle of the window at the cursor: the series
  // up to this id have it on disk already.
  uint64_t done_up_to = 0;
  bool partial = false;
  s = db_->Get(rocksdb::ReadOptions(), kRollupProgressKey, &stored);
  if (s.ok()) {
    uint64_t window = 0;
    if (stored.size() != 16 || !DecodeUint64(stored.substr(0, 8), &window) ||
        !DecodeUint64(stored.substr(8), &done_up_to)) {
      return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt roll-up progress"));
    }
    partial = DecodeTime(window) == cursor;
    if (partial) resumed_window_ns_ = cursor;
  } else if (!s.IsNotFound()) {
    return ReadError("the roll-up progress", s.ToString());
  }

  // Replay the logged batches: their windows at or after the cursor are
  // the ones not rolled up.
  absl::MutexLock lock(&apply_mu_);
  absl::MutexLock buffer(&buffer_mu_);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(1, kLogPrefix);
  int64_t batches = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t sequence = 0;
    auto corrupt = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt logged batch ",
                                              it->key().ToString(/*hex=*/true), why));
    };
    if (!DecodeUint64(View(it->key()).substr(1), &sequence)) return corrupt("");
    int64_t newest = std::numeric_limits<int64_t>::min();
    auto reopen = [&](uint64_t id, int64_t start_ns, int64_t window_ns, v1::Value value) {
      const int64_t block = FloorTo(start_ns, k10sNs);
      if (block < cursor) return;
      if (partial && block == cursor && id <= done_up_to) return;
      rollups_.Add(id, block, RawWindow{start_ns, window_ns, std::move(value)}).IgnoreError();
      newest = std::max(newest, block);
    };
    if (absl::Status s = ForEachLoggedPoint(View(it->value()), reopen); !s.ok()) {
      return corrupt(absl::StrCat(": ", s.message()));
    }
    log_.push_back({sequence, newest});
    next_log_sequence_ = sequence + 1;
    ++batches;
  }
  if (!it->status().ok()) return ReadError("the batch log", it->status().ToString());
  UpdateStats();
  if (batches > 0) {
    ANDON_LOG(INFO) << "data dir " << dir_ << ": " << rollups_.size()
                    << " open 10s windows rebuilt from " << batches
                    << " logged batches for roll-up";
  }
  return absl::OkStatus();
}

absl::Status RocksDbSeriesStore::RollUpBefore(int64_t until_ns) {
  absl::MutexLock lock(&apply_mu_);
  absl::Status s = RollUpBeforeLocked(until_ns);
  UpdateStats();
  return s;
}

absl::Status RocksDbSeriesStore::RollUpBeforeLocked(int64_t until_ns) {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  const int64_t until = FloorTo(until_ns, k10sNs);
  while (rollup_cursor_ns_.load() < until) {
    // The oldest open window (or, with none open before `until`, the cursor
    // moves there at once: as if the window before it were rolled up).
    int64_t window = until - k10sNs;
    std::vector<uint64_t> ids;
    {
      absl::ReaderMutexLock buffer(&buffer_mu_);
      if (rollups_.size() > 0 && rollups_.oldest_start_ns() < until) {
        window = std::max(rollups_.oldest_start_ns(), rollup_cursor_ns_.load());
        ids = rollups_.SeriesAt(window);
      }
    }
    // In chunks, each one atomic with its progress, so that queries are
    // not held up by one huge write; the last also moves the cursor on.
    for (size_t begin = 0; begin < ids.size() || begin == 0; begin += kRollupChunk) {
      const size_t end = std::min(ids.size(), begin + kRollupChunk);
      const bool last = end == ids.size();
      rocksdb::WriteBatch write;
      std::string value;
      // Level by level, each in key order: the memtable inserts follow one
      // another instead of jumping between levels.
      for (Level level : kLevels) {
        const int64_t start = FloorTo(window, level == Level::kRaw ? k10sNs : LevelWidthNs(level));
        for (size_t i = begin; i < end; ++i) {
          const RollupBuffer::Entry* entry = rollups_.Find(window, ids[i]);
          if (entry == nullptr) continue;
          const std::string key = PointKey(level, ids[i], start);
          // Nothing is stored yet for this series' raw and 10 s windows
          // here (only windows before the cursor are ever written), except
          // in a window whose roll-up a restart cut off: merge there.
          const bool put = level <= Level::k10s && window != resumed_window_ns_;
          if (level == Level::kRaw) {
            value = entry->Encode(window);
          } else {
            entry->merged.SerializeToString(&value);
          }
          if (put) {
            write.Put(key, value);
          } else {
            write.Merge(key, value);
          }
        }
      }
      const int64_t next_cursor = window + k10sNs;
      if (last) {
        write.Put(kRollupCursorKey, EncodeTime(next_cursor));
        write.Delete(kRollupProgressKey);
        // Logged batches whose windows are all rolled up now go. One with a
        // window further ahead (a sender's clock fast, by up to the 10 min
        // the validator allows) would keep every later batch in the log
        // until that window rolls up: its open points are logged again,
        // under a new sequence, and its old record goes with the others.
        const uint64_t first_new = next_log_sequence_;
        std::vector<Logged> relogged;
        size_t drop = 0;
        while (drop < log_.size()) {
          const Logged& head = log_[drop];
          if (head.newest_block_ns >= next_cursor + k10sNs) {
            std::optional<uint64_t> moved =
                Relog(head.sequence, next_cursor, first_new + relogged.size(), write);
            if (!moved.has_value()) break;  // could not read it: it stays
            if (*moved > 0) relogged.push_back({first_new + relogged.size(), head.newest_block_ns});
          } else if (head.newest_block_ns >= next_cursor) {
            break;  // open in the next 10 s window: it goes soon
          }
          ++drop;
        }
        const uint64_t keep_from = drop < log_.size() ? log_[drop].sequence : first_new;
        if (drop > 0) write.DeleteRange(LogKey(0), LogKey(keep_from));
        log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(drop));
        for (const Logged& l : relogged) log_.push_back(l);
        next_log_sequence_ = first_new + relogged.size();
      } else {
        write.Put(kRollupProgressKey, absl::StrCat(EncodeTime(window), EncodeUint64(ids[end - 1])));
      }
      absl::MutexLock buffer(&buffer_mu_);  // queries see a window in memory or on disk
      rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &write);
      if (!s.ok()) {
        return absl::UnavailableError(
            absl::StrCat("writing to data dir ", dir_, ": ", s.ToString()));
      }
      for (size_t i = begin; i < end; ++i) rollups_.Erase(window, ids[i]);
      if (last) rollup_cursor_ns_ = next_cursor;
      if (ids.empty()) break;
    }
  }
  return absl::OkStatus();
}

std::optional<uint64_t> RocksDbSeriesStore::Relog(uint64_t sequence, int64_t open_from_ns,
                                                  uint64_t new_sequence,
                                                  rocksdb::WriteBatch& write) {
  std::string record;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), LogKey(sequence), &record);
  if (!s.ok()) {
    ANDON_LOG(WARNING) << "data dir " << dir_ << ": cannot read logged batch " << sequence
                       << " to log its windows ahead again (it stays): " << s.ToString();
    return std::nullopt;
  }
  WindowLogWriter open;
  uint64_t points = 0;
  absl::Status read = ForEachLoggedPoint(
      record, [&](uint64_t id, int64_t start_ns, int64_t window_ns, v1::Value value) {
        if (FloorTo(start_ns, k10sNs) < open_from_ns) return;
        open.Add(id, start_ns, window_ns, value);
        ++points;
      });
  if (!read.ok()) {
    ANDON_LOG(WARNING) << "data dir " << dir_ << ": logged batch " << sequence
                       << " is damaged (it stays): " << read.message();
    return std::nullopt;
  }
  if (points > 0) write.Put(LogKey(new_sequence), open.Record());
  return points;
}

absl::Status RocksDbSeriesStore::RollUpDue() {
  const int64_t due = absl::ToUnixNanos(options_.clock->Now() - options_.rollup_delay);
  ANDON_RETURN_IF_ERROR(RollUpBeforeLocked(due));
  while (rollups_.size() > options_.max_open_rollups) {
    ANDON_RETURN_IF_ERROR(RollUpBeforeLocked(rollups_.oldest_start_ns() + k10sNs));
  }
  return absl::OkStatus();
}

absl::Status RocksDbSeriesStore::ScanIds(const std::string& prefix,
                                         std::vector<uint64_t>* ids) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t id = 0;
    if (it->key().size() == prefix.size() + 8 && DecodeIndexSeriesId(View(it->key()), &id)) {
      ids->push_back(id);
    }
  }
  if (!it->status().ok()) return ReadError("the series index", it->status().ToString());
  return absl::OkStatus();
}

absl::Status RocksDbSeriesStore::ScanRegex(absl::string_view metric, const LabelMatcher& matcher,
                                           std::vector<uint64_t>* ids) const {
  const std::string prefix = LabelIndexPrefix(metric, matcher.name());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(prefix);
  while (it->Valid() && it->key().starts_with(prefix)) {
    const absl::string_view key = View(it->key());
    if (key.size() < prefix.size() + 9) {
      it->Next();
      continue;
    }
    const std::string value(key.substr(prefix.size(), key.size() - prefix.size() - 9));
    if (!matcher.MatchesValue(value)) {
      // Label values hold no NUL, so this is past every posting of `value`.
      it->Seek(absl::StrCat(prefix, value, "\x01"));
      continue;
    }
    const std::string value_prefix = LabelValuePrefix(metric, matcher.name(), value);
    bool moved = false;
    for (; it->Valid() && it->key().starts_with(value_prefix); it->Next()) {
      moved = true;
      uint64_t id = 0;
      if (it->key().size() == value_prefix.size() + 8 &&
          DecodeIndexSeriesId(View(it->key()), &id)) {
        ids->push_back(id);
      }
    }
    if (!moved) it->Next();
  }
  if (!it->status().ok()) return ReadError("the label index", it->status().ToString());
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SeriesRef>> RocksDbSeriesStore::SelectSeries(
    absl::string_view metric, const std::vector<LabelMatcher>& matchers) const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  // Candidates from the index: a matcher that a missing label (value "")
  // would satisfy cannot use it, and only filters below.
  std::vector<uint64_t> ids;
  bool narrowed = false;
  for (const LabelMatcher& m : matchers) {
    if (m.MatchesValue("")) continue;
    std::vector<uint64_t> found;
    if (m.op() == v1::LabelMatcher::EQ) {
      ANDON_RETURN_IF_ERROR(ScanIds(LabelValuePrefix(metric, m.name(), m.value()), &found));
    } else if (m.op() == v1::LabelMatcher::REGEX) {
      ANDON_RETURN_IF_ERROR(ScanRegex(metric, m, &found));
    } else {
      continue;
    }
    ids = narrowed ? Intersect(ids, found) : std::move(found);
    narrowed = true;
    if (ids.empty()) return std::vector<SeriesRef>{};
  }
  if (!narrowed) ANDON_RETURN_IF_ERROR(ScanIds(MetricIndexPrefix(metric), &ids));

  std::vector<SeriesRef> out;
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> slices;
  std::vector<std::string> values;
  for (size_t begin = 0; begin < ids.size(); begin += kMultiGetChunk) {
    const size_t end = std::min(ids.size(), begin + kMultiGetChunk);
    keys.clear();
    for (size_t i = begin; i < end; ++i) keys.push_back(SeriesKeyKey(ids[i]));
    slices.assign(keys.begin(), keys.end());
    values.clear();
    std::vector<rocksdb::Status> statuses = db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
    for (size_t i = 0; i < statuses.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) return ReadError("series", statuses[i].ToString());
      SeriesRef ref{ids[begin + i], {}};
      if (!ref.key.ParseFromString(values[i])) {
        return absl::DataLossError(
            absl::StrCat("data dir ", dir_, ": corrupt series entry for id ", ref.id));
      }
      if (ref.key.metric() != metric) continue;
      bool all = true;
      for (const LabelMatcher& m : matchers) all = all && m.Matches(ref.key);
      if (all) out.push_back(std::move(ref));
    }
  }
  return out;
}

absl::Status RocksDbSeriesStore::ScanPoints(Level level, uint64_t series_id, int64_t start_ns,
                                            int64_t end_ns, const PointVisitor& visit) const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  if (end_ns <= start_ns) return absl::OkStatus();
  const bool raw = level == Level::kRaw;
  // Raw windows not rolled up yet are in memory: read both under one lock,
  // so that a roll-up moving a window to disk meanwhile is seen once.
  std::optional<absl::ReaderMutexLock> buffer;
  if (raw) buffer.emplace(&buffer_mu_);
  const std::string upper = PointKey(level, series_id, end_ns);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  const int64_t first = raw ? FloorTo(start_ns, k10sNs) : start_ns;
  v1::Value value;
  std::vector<RawWindow> windows;
  bool more = true;
  for (it->Seek(PointKey(level, series_id, first)); more && it->Valid(); it->Next()) {
    DecodedPointKey key;
    bool ok = DecodePointKey(View(it->key()), &key) && key.series_id == series_id;
    if (ok && raw) {
      windows.clear();
      ok = DecodeRawBlock(key.window_start_ns, View(it->value()), &windows).ok();
      for (size_t i = 0; ok && more && i < windows.size(); ++i) {
        const RawWindow& w = windows[i];
        if (w.start_ns >= start_ns && w.start_ns < end_ns) {
          more = visit(w.start_ns, w.window_ns, w.value);
        }
      }
    } else if (ok) {
      value.Clear();
      ok = value.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()));
      if (ok) more = visit(key.window_start_ns, key.window_ns, value);
    }
    if (!ok) {
      return absl::DataLossError(
          absl::StrCat("data dir ", dir_, ": corrupt point ", it->key().ToString(/*hex=*/true)));
    }
  }
  if (!it->status().ok()) return ReadError("points", it->status().ToString());
  if (raw && more) {
    rollups_.Visit(series_id, first, end_ns, [&](const RawWindow& w) {
      if (w.start_ns < start_ns || w.start_ns >= end_ns) return true;
      return visit(w.start_ns, w.window_ns, w.value);
    });
  }
  return absl::OkStatus();
}

absl::StatusOr<std::array<uint64_t, kLevelCount>> RocksDbSeriesStore::BytesByLevel() const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  std::array<std::string, kLevelCount + 1> bounds;
  for (int i = 0; i <= kLevelCount; ++i) bounds[i] = {kPointPrefix, static_cast<char>(i)};
  std::array<rocksdb::Range, kLevelCount> ranges;
  for (int i = 0; i < kLevelCount; ++i) ranges[i] = rocksdb::Range(bounds[i], bounds[i + 1]);
  std::array<uint64_t, kLevelCount> sizes{};
  rocksdb::SizeApproximationOptions options;
  options.include_files = true;
  options.include_memtables = false;
  rocksdb::Status s = db_->GetApproximateSizes(options, db_->DefaultColumnFamily(), ranges.data(),
                                               kLevelCount, sizes.data());
  if (!s.ok()) return ReadError("file sizes", s.ToString());
  return sizes;
}

absl::Status RocksDbSeriesStore::CompactAll() {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Status s = db_->CompactRange(options, nullptr, nullptr);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("compacting data dir ", dir_, ": ", s.ToString()));
  }
  return absl::OkStatus();
}

}  // namespace andon::aggregator
