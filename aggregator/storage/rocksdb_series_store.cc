#include "aggregator/storage/rocksdb_series_store.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/storage/storage_keys.h"
#include "aggregator/storage/value_merge_operator.h"
#include "common/series_key.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace andon::aggregator {
namespace {

absl::Status OpenError(const std::string& dir, const rocksdb::Status& s) {
  // RocksDB reports a held LOCK file as an IO error mentioning the lock.
  if (s.IsIOError() && absl::StrContains(absl::AsciiStrToLower(s.ToString()), "lock")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", dir, " is in use by another andon-aggregator (", s.ToString(), ")"));
  }
  return absl::UnavailableError(absl::StrCat("cannot open data dir ", dir, ": ", s.ToString()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbSeriesStore>> RocksDbSeriesStore::Open(
    const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("data dir is empty");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.merge_operator = std::make_shared<ValueMergeOperator>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return OpenError(dir, s);
  std::unique_ptr<RocksDbSeriesStore> store(
      new RocksDbSeriesStore(dir, std::unique_ptr<rocksdb::DB>(raw)));
  ANDON_RETURN_IF_ERROR(store->LoadSeriesCache());
  return store;
}

RocksDbSeriesStore::RocksDbSeriesStore(std::string dir, std::unique_ptr<rocksdb::DB> db)
    : dir_(std::move(dir)), db_(std::move(db)) {}

RocksDbSeriesStore::~RocksDbSeriesStore() { Close().IgnoreError(); }

absl::Status RocksDbSeriesStore::Close() {
  if (db_ == nullptr) return absl::OkStatus();
  rocksdb::Status s = db_->Close();
  db_.reset();
  if (!s.ok())
    return absl::InternalError(absl::StrCat("closing data dir ", dir_, ": ", s.ToString()));
  return absl::OkStatus();
}

absl::Status RocksDbSeriesStore::LoadSeriesCache() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(1, kSeriesPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t id = 0;
    v1::SeriesKey key;
    if (!DecodeUint64(absl::string_view(it->key().data() + 1, it->key().size() - 1), &id) ||
        !key.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("data dir ", dir_, ": corrupt series entry ",
                                              it->key().ToString(/*hex=*/true)));
    }
    CacheSeries(id, key);
  }
  if (!it->status().ok()) {
    return absl::UnavailableError(
        absl::StrCat("reading series from data dir ", dir_, ": ", it->status().ToString()));
  }
  return absl::OkStatus();
}

bool RocksDbSeriesStore::CacheSeries(uint64_t id, const v1::SeriesKey& key) {
  absl::MutexLock lock(&cache_mu_);
  if (!known_ids_.insert(id).second) return false;
  series_by_metric_[key.metric()].push_back(SeriesRef{id, key});
  return true;
}

bool RocksDbSeriesStore::IsCached(uint64_t id) const {
  absl::ReaderMutexLock lock(&cache_mu_);
  return known_ids_.contains(id);
}

absl::StatusOr<uint64_t> RocksDbSeriesStore::LastSequence(absl::string_view sender_id) const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), SequenceKey(sender_id), &value);
  if (s.IsNotFound()) return 0;
  uint64_t seq = 0;
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("reading data dir ", dir_, ": ", s.ToString()));
  }
  if (!DecodeUint64(value, &seq)) {
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
  if (!it->status().ok()) {
    return absl::UnavailableError(
        absl::StrCat("reading data dir ", dir_, ": ", it->status().ToString()));
  }
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
  std::vector<SeriesRef> new_series;
  absl::flat_hash_set<uint64_t> new_ids;
  std::string value;
  for (const v1::Point& point : batch.points()) {
    v1::SeriesKey key = point.series();
    CanonicalizeSeriesKey(key);
    const uint64_t id = SeriesId(key);
    if (!IsCached(id) && new_ids.insert(id).second) {
      write.Put(SeriesKeyKey(id), key.SerializeAsString());
      write.Put(MetricIndexKey(key.metric(), id), "");
      new_series.push_back(SeriesRef{id, std::move(key)});
    }
    point.value().SerializeToString(&value);
    write.Merge(PointKey(id, point.window_start_ns()), value);
  }
  write.Put(SequenceKey(batch.sender_id()), EncodeUint64(batch.sequence()));

  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &write);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("writing to data dir ", dir_, ": ", s.ToString()));
  }
  for (const SeriesRef& ref : new_series) CacheSeries(ref.id, ref.key);
  result.last_sequence = batch.sequence();
  result.points_applied = batch.points_size();
  return result;
}

std::vector<SeriesRef> RocksDbSeriesStore::SeriesOfMetric(absl::string_view metric) const {
  absl::ReaderMutexLock lock(&cache_mu_);
  auto it = series_by_metric_.find(metric);
  if (it == series_by_metric_.end()) return {};
  return it->second;
}

absl::Status RocksDbSeriesStore::ScanPoints(uint64_t series_id, int64_t start_ns, int64_t end_ns,
                                            const PointVisitor& visit) const {
  if (db_ == nullptr) return absl::FailedPreconditionError("series store is closed");
  if (end_ns <= start_ns) return absl::OkStatus();
  const std::string upper = PointKey(series_id, end_ns);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  v1::Value value;
  for (it->Seek(PointKey(series_id, start_ns)); it->Valid(); it->Next()) {
    uint64_t id = 0;
    int64_t window_start_ns = 0;
    value.Clear();
    if (!DecodePointKey(absl::string_view(it->key().data(), it->key().size()), &id,
                        &window_start_ns) ||
        !value.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("data dir ", dir_, ": corrupt point ", it->key().ToString(/*hex=*/true)));
    }
    if (!visit(window_start_ns, value)) break;
  }
  if (!it->status().ok()) {
    return absl::UnavailableError(
        absl::StrCat("reading data dir ", dir_, ": ", it->status().ToString()));
  }
  return absl::OkStatus();
}

}  // namespace andon::aggregator
