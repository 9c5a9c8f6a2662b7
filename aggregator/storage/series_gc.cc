#include "aggregator/storage/series_gc.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/storage/storage_keys.h"
#include "andon/v1/types.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace andon::aggregator {
namespace {

// Ingest writes a last-seen entry at most this long after the series' last
// point (a day), and a window may lie a little ahead of the clock.
constexpr int64_t kSlackHours = 48;

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

SeriesGc::SeriesGc(rocksdb::DB* db, std::string dir, const Retention& retention)
    : db_(db),
      dir_(std::move(dir)),
      keep_hours_(absl::ToInt64Hours(std::max({retention.raw, retention.ten_seconds,
                                               retention.one_minute, retention.one_hour})) +
                  1) {}

int64_t SeriesGc::CutoffHour(int64_t now_ns) const {
  return HourOf(now_ns) - keep_hours_ - kSlackHours;
}

absl::StatusOr<SeriesGc::Step> SeriesGc::RunStep(int64_t now_ns, size_t max_entries) {
  const int64_t cutoff = CutoffHour(now_ns);
  Step step;
  rocksdb::WriteBatch write;
  const std::string prefix(1, senders_phase_ ? kSequencePrefix : kLastSeenPrefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  size_t looked = 0;
  std::string series;
  for (it->Seek(cursor_.empty() ? prefix : cursor_);
       it->Valid() && it->key().starts_with(prefix) && looked < max_entries; it->Next()) {
    ++looked;
    const absl::string_view key = View(it->key());
    if (senders_phase_) {
      uint64_t sequence = 0;
      int64_t hour = 0;
      // An hour of -1 (a sequence written before format 4 and not since) is
      // never old: the upgrade stamps every sender.
      if (!DecodeSequence(View(it->value()), &sequence, &hour) || hour < 0 || hour >= cutoff) {
        continue;
      }
      const std::string sender(key.substr(1));
      write.Delete(it->key());
      write.Delete(HostLabelsKey(sender));
      step.senders.push_back(sender);
      continue;
    }
    uint64_t id = 0;
    uint64_t hour = 0;
    if (key.size() != 9 || !DecodeUint64(key.substr(1), &id) ||
        !DecodeUint64(View(it->value()), &hour) || static_cast<int64_t>(hour) >= cutoff) {
      continue;
    }
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), SeriesKeyKey(id), &series);
    if (s.ok()) {
      v1::SeriesKey parsed;
      if (!parsed.ParseFromString(series)) {
        return absl::DataLossError(
            absl::StrCat("data dir ", dir_, ": corrupt series entry for id ", id));
      }
      write.Delete(SeriesKeyKey(id));
      write.Delete(MetricIndexKey(parsed.metric(), id));
      for (const v1::Label& label : parsed.labels()) {
        write.Delete(LabelIndexKey(parsed.metric(), label.name(), label.value(), id));
      }
    } else if (!s.IsNotFound()) {
      return absl::UnavailableError(
          absl::StrCat("reading a series from data dir ", dir_, ": ", s.ToString()));
    }
    write.Delete(it->key());
    step.series.push_back(id);
  }
  if (!it->status().ok()) {
    return absl::UnavailableError(absl::StrCat("reading last-seen entries from data dir ", dir_,
                                               ": ", it->status().ToString()));
  }
  std::string next;
  const bool phase_done = !it->Valid() || !it->key().starts_with(prefix);
  if (!phase_done) next = it->key().ToString();
  if (write.Count() > 0) {
    rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &write);
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("forgetting expired series in data dir ", dir_, ": ", s.ToString()));
    }
  }
  cursor_ = std::move(next);
  if (phase_done) {
    step.pass_done = senders_phase_;
    senders_phase_ = !senders_phase_;
  }
  return step;
}

}  // namespace andon::aggregator
