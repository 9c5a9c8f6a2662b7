#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/storage/resolution.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace andon::aggregator {

// Forgets series and senders whose data has all expired, so that a data dir
// under churn (short-lived hosts, processes, containers) does not keep the
// keys and index entries of every series it ever saw. Ingest writes each
// series' last-seen hour ('a' entries, storage_keys.h) about once a day and
// each sender's hour with its sequence; a series or sender last seen longer
// ago than the longest retention of any level, plus two days for those
// writes' slack, has no window left on any level. Forgetting a series
// deletes its key, its last-seen entry and its metric and label index
// entries; a sender, its sequence and host labels. A series seen again later
// is stored as new.
//
// Runs in bounded steps, each one atomic write, resuming where the last
// stopped: the caller holds the lock that serializes ingest, so a step must
// not hold it long. Not thread-safe.
class SeriesGc {
 public:
  SeriesGc(rocksdb::DB* db, std::string dir, const Retention& retention);

  // The hour before which a series or sender last seen is forgotten.
  int64_t CutoffHour(int64_t now_ns) const;

  struct Step {
    std::vector<uint64_t> series;      // forgotten in this step
    std::vector<std::string> senders;  // forgotten in this step
    bool pass_done = false;            // every entry was looked at; the next step starts over
  };
  // Looks at up to `max_entries` last-seen entries, series first, then
  // senders. Fails (deleting nothing of this step) when the store cannot be
  // read or written.
  absl::StatusOr<Step> RunStep(int64_t now_ns, size_t max_entries);

 private:
  rocksdb::DB* const db_;
  const std::string dir_;
  const int64_t keep_hours_;
  bool senders_phase_ = false;
  std::string cursor_;  // the next key to look at; empty: its phase's first
};

}  // namespace andon::aggregator
