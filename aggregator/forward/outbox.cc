#include "aggregator/forward/outbox.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "aggregator/storage/storage_keys.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace andon::aggregator {
namespace {

constexpr char kBatchPrefix = 'b';
constexpr char kLatePrefix = 'l';
const char kCursorKey[] = "c";
const char kNextKey[] = "n";
const char kRulesKey[] = "r";

std::string BatchKey(uint64_t sequence) {
  return std::string(1, kBatchPrefix) + EncodeUint64(sequence);
}

std::string LateKey(uint64_t number) { return std::string(1, kLatePrefix) + EncodeUint64(number); }

// The number of a key with `prefix`, or 0.
uint64_t NumberOf(const rocksdb::Slice& key, char prefix) {
  uint64_t v = 0;
  if (key.empty() || key[0] != prefix ||
      !DecodeUint64(absl::string_view(key.data() + 1, key.size() - 1), &v)) {
    return 0;
  }
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(const std::string& dir, size_t max_batches) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot open the forward outbox in ", dir, ": ", s.ToString()));
  }
  std::unique_ptr<Outbox> box(
      new Outbox(dir, std::unique_ptr<rocksdb::DB>(raw), std::max<size_t>(max_batches, 1)));
  if (absl::Status loaded = box->Load(); !loaded.ok()) return loaded;
  return box;
}

Outbox::Outbox(std::string dir, std::unique_ptr<rocksdb::DB> db, size_t max_batches)
    : dir_(std::move(dir)), db_(std::move(db)), max_batches_(max_batches) {}

Outbox::~Outbox() {
  if (db_ != nullptr) db_->Close().PermitUncheckedError();
}

absl::Status Outbox::Error(const std::string& what, const std::string& detail) const {
  return absl::UnavailableError(absl::StrCat(what, " the forward outbox in ", dir_, ": ", detail));
}

absl::Status Outbox::Load() {
  absl::MutexLock lock(&mu_);
  std::string value;
  uint64_t v = 0;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kCursorKey, &value);
  if (s.ok() && DecodeUint64(value, &v)) cursor_ = static_cast<int64_t>(v);
  s = db_->Get(rocksdb::ReadOptions(), kNextKey, &value);
  if (s.ok() && DecodeUint64(value, &v)) {
    next_sequence_ = v;
  } else {
    // A new outbox: start above anything an earlier outbox of this
    // aggregator may have sent, as the parent remembers the last sequence.
    next_sequence_ = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())) * 1000 + 1;
  }
  first_sequence_ = next_sequence_;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(std::string(1, kBatchPrefix));
  if (it->Valid() && !it->key().empty() && it->key()[0] == kBatchPrefix &&
      DecodeUint64(absl::string_view(it->key().data() + 1, it->key().size() - 1), &v)) {
    first_sequence_ = v;
  }
  if (!it->status().ok()) return Error("reading", it->status().ToString());
  it->Seek(LateKey(0));
  if (it->Valid() && NumberOf(it->key(), kLatePrefix) != 0) {
    first_late_ = NumberOf(it->key(), kLatePrefix);
    it->SeekForPrev(LateKey(std::numeric_limits<uint64_t>::max()));
    next_late_ = NumberOf(it->key(), kLatePrefix) + 1;
  }
  if (!it->status().ok()) return Error("reading", it->status().ToString());
  return absl::OkStatus();
}

int64_t Outbox::cursor() const {
  absl::MutexLock lock(&mu_);
  return cursor_;
}

size_t Outbox::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(next_sequence_ - first_sequence_);
}

uint64_t Outbox::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

absl::Status Outbox::Append(std::vector<v1::IngestBatch> batches, int64_t cursor,
                            uint64_t late_through) {
  absl::MutexLock lock(&mu_);
  rocksdb::WriteBatch write;
  const uint64_t late_end = std::min(late_through + 1, next_late_);
  if (late_end > first_late_) write.DeleteRange(LateKey(first_late_), LateKey(late_end));
  uint64_t next = next_sequence_;
  for (v1::IngestBatch& b : batches) {
    b.set_sequence(next);
    write.Put(BatchKey(next), b.SerializeAsString());
    ++next;
  }
  const int64_t new_cursor = std::max(cursor_, cursor);
  write.Put(kCursorKey, EncodeUint64(static_cast<uint64_t>(new_cursor)));
  write.Put(kNextKey, EncodeUint64(next));
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &write);
  if (!s.ok()) return Error("writing", s.ToString());
  next_sequence_ = next;
  cursor_ = new_cursor;
  first_late_ = std::max(first_late_, late_end);
  const size_t held = static_cast<size_t>(next_sequence_ - first_sequence_);
  if (held > max_batches_) {
    return DeleteThrough(first_sequence_ + (held - max_batches_) - 1, /*count_as_dropped=*/true);
  }
  return absl::OkStatus();
}

absl::Status Outbox::AppendLate(const v1::IngestBatch& late) {
  absl::MutexLock lock(&mu_);
  rocksdb::Status s =
      db_->Put(rocksdb::WriteOptions(), LateKey(next_late_), late.SerializeAsString());
  if (!s.ok()) return Error("writing late points to", s.ToString());
  ++next_late_;
  return absl::OkStatus();
}

uint64_t Outbox::last_late() const {
  absl::MutexLock lock(&mu_);
  return first_late_ == next_late_ ? 0 : next_late_ - 1;
}

absl::StatusOr<std::vector<v1::IngestBatch>> Outbox::LateRecords() const {
  uint64_t first = 0;
  {
    absl::MutexLock lock(&mu_);
    first = first_late_;
  }
  return Read(kLatePrefix, first, std::numeric_limits<size_t>::max(), "record of late points");
}

absl::StatusOr<std::vector<v1::IngestBatch>> Outbox::Oldest(size_t max) const {
  uint64_t first = 0;
  {
    absl::MutexLock lock(&mu_);
    first = first_sequence_;
  }
  return Read(kBatchPrefix, first, max, "batch");
}

absl::StatusOr<std::vector<v1::IngestBatch>> Outbox::Read(char prefix, uint64_t first, size_t max,
                                                          const char* what) const {
  std::vector<v1::IngestBatch> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, prefix) + EncodeUint64(first));
       it->Valid() && out.size() < max && !it->key().empty() && it->key()[0] == prefix;
       it->Next()) {
    v1::IngestBatch b;
    if (!b.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("the forward outbox in ", dir_, " holds a corrupt ",
                                              what, " at ", it->key().ToString(/*hex=*/true)));
    }
    out.push_back(std::move(b));
  }
  if (!it->status().ok()) return Error("reading", it->status().ToString());
  return out;
}

absl::Status Outbox::Acknowledge(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  return DeleteThrough(sequence, /*count_as_dropped=*/false);
}

absl::Status Outbox::DeleteThrough(uint64_t sequence, bool count_as_dropped) {
  if (sequence < first_sequence_) return absl::OkStatus();
  const uint64_t end = std::min(sequence + 1, next_sequence_);
  rocksdb::Status s = db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(),
                                       BatchKey(first_sequence_), BatchKey(end));
  if (!s.ok()) return Error("deleting from", s.ToString());
  if (count_as_dropped) dropped_ += end - first_sequence_;
  first_sequence_ = end;
  return absl::OkStatus();
}

absl::Status Outbox::PutRules(const std::vector<v1::ForwardRule>& rules) {
  v1::ListAggregatorsResponse holder;
  for (const v1::ForwardRule& r : rules) *holder.add_forward_rules() = r;
  absl::MutexLock lock(&mu_);
  rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), kRulesKey, holder.SerializeAsString());
  if (!s.ok()) return Error("writing", s.ToString());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ForwardRule>> Outbox::Rules() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kRulesKey, &value);
  if (s.IsNotFound()) return std::vector<v1::ForwardRule>{};
  if (!s.ok()) return Error("reading", s.ToString());
  v1::ListAggregatorsResponse holder;
  if (!holder.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("the forward outbox in ", dir_, " holds corrupt rules"));
  }
  return std::vector<v1::ForwardRule>(holder.forward_rules().begin(), holder.forward_rules().end());
}

}  // namespace andon::aggregator
