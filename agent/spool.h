#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/ingest.pb.h"

namespace andon::agent {

// The agent's on-disk buffer of ingest batches not yet acknowledged by an
// aggregator, so that an outage of the aggregators (or a restart of the
// agent) loses nothing within the bound. Batches are appended to segment
// files DIR/<first sequence>.seg (records: 4-byte little-endian length,
// 8-byte FNV-1a of the bytes, the serialized batch) of about 4 MiB; a
// segment is deleted once every batch in it is acknowledged. Past
// `max_bytes` the oldest segment is deleted and its unacknowledged batches
// counted as dropped. A torn record at the end of a segment (a crash mid
// write) is ignored on load. Thread-safe.
class Spool {
 public:
  struct Options {
    std::string dir;
    uint64_t max_bytes = 256ull << 20;
    uint64_t segment_bytes = 4ull << 20;
  };

  // Opens (creating) the directory and loads what an earlier run left.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(Options options);
  ~Spool();

  // Appends a batch (sequences must increase). Returns the sequences
  // dropped by the bound: every unacknowledged batch through the returned
  // sequence is gone (0: none dropped), with `*dropped` of them.
  absl::StatusOr<uint64_t> Append(const v1::IngestBatch& batch, uint64_t* dropped);
  // Batches with sequence > `after`, oldest first, at most `max`.
  absl::StatusOr<std::vector<v1::IngestBatch>> ReadAfter(uint64_t after, size_t max) const;
  // Every batch through `sequence` is acknowledged: whole segments go.
  void Acknowledge(uint64_t sequence);

  uint64_t last_sequence() const;  // 0 if empty
  uint64_t bytes() const;
  size_t unacknowledged() const;

 private:
  struct Segment {
    std::string path;
    uint64_t first = 0, last = 0;
    uint64_t bytes = 0;
    std::vector<uint64_t> sequences;  // of its batches, in order
  };
  explicit Spool(Options options) : options_(std::move(options)) {}
  absl::Status Load();
  absl::Status OpenTail(uint64_t first_sequence) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropOldest(uint64_t* dropped, uint64_t* through) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t UnackedIn(const Segment& s) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<Segment> segments_ ABSL_GUARDED_BY(mu_);
  int tail_fd_ ABSL_GUARDED_BY(mu_) = -1;  // the last segment, open for appends
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_through_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace andon::agent
