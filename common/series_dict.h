#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "andon/v1/ingest.pb.h"

namespace andon {

// A per-stream series dictionary for ingest, so that a series' metric and
// labels cross the wire once per stream, not with every point: the first
// time a stream carries a series, the batch defines it under a number
// (IngestBatch.series_defs); its points, then and later, carry only that
// number (Point.series_ref). A new stream starts with an empty dictionary,
// so a batch sent again on another stream is encoded afresh. Both ends are
// bounded: past kMaxSeriesRefs series on one stream, the encoder sends the
// rest whole and the decoder refuses more definitions.
inline constexpr size_t kMaxSeriesRefs = 65536;

// The sender's side of one stream. Not thread-safe.
class SeriesDictEncoder {
 public:
  // Replaces each point's series by its number, adding the definitions of
  // series new to this stream to `batch`.
  void Encode(v1::IngestBatch& batch);
  size_t size() const { return refs_.size(); }

 private:
  absl::flat_hash_map<std::string, uint32_t> refs_;  // serialized key -> number
  std::string scratch_;
};

// The receiver's side of one stream. Not thread-safe.
class SeriesDictDecoder {
 public:
  // Learns `batch`'s definitions, puts each referred series back into its
  // point and clears the definitions, so that the batch reads as if sent
  // whole. The series are lent, not copied: the points point at the
  // dictionary's keys until Release. INVALID_ARGUMENT, saying what to fix,
  // for a point with both a series and a number, a number not defined on
  // this stream, a definition numbered 0 or past the bound; the batch is
  // then to be refused (and still released).
  absl::Status Decode(v1::IngestBatch& batch);
  // Takes the lent series back out of `batch`'s points. Must be called
  // after each Decode, before `batch` is changed, cleared, reused or
  // destroyed and before the next Decode; Lent does it at scope exit.
  void Release(v1::IngestBatch& batch);
  size_t size() const { return series_.size(); }

  // Releases a decoded batch when it goes out of scope.
  class Lent {
   public:
    Lent(SeriesDictDecoder& dict, v1::IngestBatch& batch) : dict_(dict), batch_(batch) {}
    ~Lent() { dict_.Release(batch_); }
    Lent(const Lent&) = delete;
    Lent& operator=(const Lent&) = delete;

   private:
    SeriesDictDecoder& dict_;
    v1::IngestBatch& batch_;
  };

 private:
  // Node-based: a key stays where it is while points point at it.
  absl::node_hash_map<uint32_t, v1::SeriesKey> series_;
  std::vector<int> lent_;  // points of the decoded batch holding a lent key
};

}  // namespace andon
