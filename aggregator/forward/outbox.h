#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/fleet.pb.h"
#include "andon/v1/ingest.pb.h"

namespace rocksdb {
class DB;
}

namespace andon::aggregator {

// The forwarder's durable state, in its own RocksDB (DATA_DIR/forward):
// batches of reduced windows waiting for the parent's ack, each with its
// sequence; the cursor (every window starting before it has been put here);
// and the forwarding rules last heard from the controller. Appending batches
// and moving the cursor is one atomic write, so after a crash a window is
// either in the outbox or still ahead of the cursor (and rebuilt from the
// series store), never both and never neither. Holds at most `max_batches`:
// appending past that drops the oldest, counted. Late points (for windows
// already handed on) are kept as records of their own until an Append folds
// them into its batches, so that a crash loses none and the parent gets
// them in one batch per tick, not one per late batch. Thread-safe.
//   'b' + sequence -> serialized v1::IngestBatch
//   'c'            -> cursor, unix ns
//   'l' + number   -> serialized v1::IngestBatch: one batch's late points
//   'n'            -> next sequence
//   'r'            -> serialized v1::ListAggregatorsResponse holding the rules
class Outbox {
 public:
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(const std::string& dir, size_t max_batches);
  ~Outbox();

  int64_t cursor() const ABSL_LOCKS_EXCLUDED(mu_);
  // Batches held, and batches dropped since Open() because the outbox was full.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t dropped() const ABSL_LOCKS_EXCLUDED(mu_);

  // Gives each batch the next sequence, stores them and moves the cursor to
  // `cursor` (never backwards), atomically; in the same write, deletes the
  // late records numbered up to `late_through` (their points are in
  // `batches`). `batches` may be empty.
  absl::Status Append(std::vector<v1::IngestBatch> batches, int64_t cursor,
                      uint64_t late_through = 0) ABSL_LOCKS_EXCLUDED(mu_);
  // Stores `late` (one ingest batch's late points, with its sender and host
  // labels) as the next late record.
  absl::Status AppendLate(const v1::IngestBatch& late) ABSL_LOCKS_EXCLUDED(mu_);
  // The number of the newest late record held (0: none held), and the
  // records, oldest first.
  uint64_t last_late() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<v1::IngestBatch>> LateRecords() const ABSL_LOCKS_EXCLUDED(mu_);
  // Up to `max` of the oldest batches, oldest first.
  absl::StatusOr<std::vector<v1::IngestBatch>> Oldest(size_t max) const ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes every batch with a sequence <= `sequence` (the parent has them).
  absl::Status Acknowledge(uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Status PutRules(const std::vector<v1::ForwardRule>& rules) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<v1::ForwardRule>> Rules() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Outbox(std::string dir, std::unique_ptr<rocksdb::DB> db, size_t max_batches);
  absl::Status Load() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeleteThrough(uint64_t sequence, bool count_as_dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(const std::string& what, const std::string& detail) const;
  // Up to `max` records with `prefix`, from number `first` on, in order;
  // DATA_LOSS naming `what` for one that does not parse.
  absl::StatusOr<std::vector<v1::IngestBatch>> Read(char prefix, uint64_t first, size_t max,
                                                    const char* what) const;

  const std::string dir_;
  const std::unique_ptr<rocksdb::DB> db_;
  const size_t max_batches_;

  mutable absl::Mutex mu_;
  uint64_t first_sequence_ ABSL_GUARDED_BY(mu_) = 0;  // oldest held; == next_ when empty
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t first_late_ ABSL_GUARDED_BY(mu_) = 1;  // oldest held; == next_late_ when none
  uint64_t next_late_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace andon::aggregator
