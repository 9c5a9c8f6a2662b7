#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/storage/series_store.h"

namespace rocksdb {
class DB;
}

namespace andon::aggregator {

// SeriesStore on an embedded RocksDB in one data directory (key layout in
// storage_keys.h). Series keys are cached in memory per metric, loaded at
// Open(), so queries never rescan metadata.
//
// Thread-safe: ApplyBatch calls are serialized by a mutex (the duplicate
// check and the write must be atomic per sender); reads run concurrently
// with them and with each other.
class RocksDbSeriesStore final : public SeriesStore {
 public:
  // Opens (creating if needed) the store in `dir`. Fails with a message
  // naming the directory, e.g. FAILED_PRECONDITION "data dir X is in use by
  // another andon-aggregator" when another process holds it.
  static absl::StatusOr<std::unique_ptr<RocksDbSeriesStore>> Open(const std::string& dir);

  ~RocksDbSeriesStore() override;
  RocksDbSeriesStore(const RocksDbSeriesStore&) = delete;
  RocksDbSeriesStore& operator=(const RocksDbSeriesStore&) = delete;

  absl::StatusOr<ApplyResult> ApplyBatch(const v1::IngestBatch& batch) override;
  std::vector<SeriesRef> SeriesOfMetric(absl::string_view metric) const override;
  absl::Status ScanPoints(uint64_t series_id, int64_t start_ns, int64_t end_ns,
                          const PointVisitor& visit) const override;
  absl::StatusOr<uint64_t> LastSequence(absl::string_view sender_id) const override;
  absl::Status PutMetricInfo(const v1::MetricInfo& metric) override;
  absl::StatusOr<std::vector<v1::MetricInfo>> LoadMetricInfos() const override;

  // Flushes and closes the database; later calls fail. Idempotent. Must not
  // race with other calls.
  absl::Status Close();

 private:
  RocksDbSeriesStore(std::string dir, std::unique_ptr<rocksdb::DB> db);

  absl::Status LoadSeriesCache();
  // Adds a series to the cache; false if it was already there.
  bool CacheSeries(uint64_t id, const v1::SeriesKey& key) ABSL_LOCKS_EXCLUDED(cache_mu_);
  bool IsCached(uint64_t id) const ABSL_LOCKS_EXCLUDED(cache_mu_);

  const std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;

  // Serializes ApplyBatch.
  absl::Mutex apply_mu_;

  mutable absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::vector<SeriesRef>> series_by_metric_
      ABSL_GUARDED_BY(cache_mu_);
  absl::flat_hash_set<uint64_t> known_ids_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace andon::aggregator
