#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "controller/kv_store.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace andon::controller {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

// KvStore on one RocksDB instance. Thread-safe (RocksDB is).
class RocksDbStore final : public KvStore {
 public:
  explicit RocksDbStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  absl::Status Put(absl::string_view key, absl::string_view value) override {
    return FromRocks(db_->Put(rocksdb::WriteOptions(), ToSlice(key), ToSlice(value)),
                     "rocksdb put");
  }

  absl::Status PutAll(const std::vector<std::pair<std::string, std::string>>& entries) override {
    rocksdb::WriteBatch batch;
    for (const auto& [key, value] : entries) {
      rocksdb::Status s = batch.Put(key, value);
      if (!s.ok()) return FromRocks(s, "rocksdb batch");
    }
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "rocksdb write");
  }

  absl::Status Delete(absl::string_view key) override {
    return FromRocks(db_->Delete(rocksdb::WriteOptions(), ToSlice(key)), "rocksdb delete");
  }

  absl::Status Scan(absl::string_view prefix, const ScanFn& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
         it->Next()) {
      absl::Status s = fn(absl::string_view(it->key().data(), it->key().size()),
                          absl::string_view(it->value().data(), it->value().size()));
      if (!s.ok()) return s;
    }
    return FromRocks(it->status(), "rocksdb scan");
  }

  absl::Status ScanReverse(absl::string_view prefix, const ScanFn& fn) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    // Start at the last key before the first key past the prefix.
    std::string past(prefix);
    while (!past.empty() && static_cast<unsigned char>(past.back()) == 0xff) past.pop_back();
    if (past.empty()) {
      it->SeekToLast();
    } else {
      past.back() = static_cast<char>(static_cast<unsigned char>(past.back()) + 1);
      it->Seek(past);
      if (it->Valid()) {
        it->Prev();
      } else if (it->status().ok()) {
        it->SeekToLast();
      }
    }
    for (; it->Valid() && it->key().starts_with(ToSlice(prefix)); it->Prev()) {
      absl::Status s = fn(absl::string_view(it->key().data(), it->key().size()),
                          absl::string_view(it->value().data(), it->value().size()));
      if (!s.ok()) return s;
    }
    return FromRocks(it->status(), "rocksdb reverse scan");
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open controller database in '", dir, "': ", s.ToString()));
  }
  return std::make_unique<RocksDbStore>(std::unique_ptr<rocksdb::DB>(db));
}

}  // namespace andon::controller
