#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/batch_validator.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/storage/series_store.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "common/series_dict.h"
#include "common/server_queues.h"

namespace andon::aggregator {

// Completion queues (each with its thread) that serve Stream and Push: one
// per core of the small machines leaves run on. Every idle queue thread
// also polls the process's sockets (gRPC's epoll1) and hands what it reads
// to the call's own queue, so more queues than cores cost hand-offs.
inline constexpr int kDefaultStreamQueues = 2;

// Told of every batch the store applied (not of duplicates), after it is
// stored; called on gRPC threads, concurrently.
class AppliedBatchSink {
 public:
  virtual ~AppliedBatchSink() = default;
  virtual void OnApplied(const v1::IngestBatch& batch) = 0;
  // Senders the store forgot, all their data expired (series_gc.h).
  virtual void OnForgotten(const std::vector<std::string>& /*senders*/) {}
};

// The Ingest gRPC service: each batch of a Push stream is validated and
// applied to the SeriesStore as it arrives. The first invalid batch ends the
// stream with its INVALID_ARGUMENT status (batches before it stay applied);
// a clean end of stream is answered with an IngestAck. Raw events in a
// batch are not stored (live tails are not built yet).
//
// Thread-safe: calls run on gRPC's threads and the service's queue threads;
// the store, validator and metrics it holds are thread-safe and must
// outlive the server. Store writes run on those threads (they are short,
// unsynced writes).
//
// Stream (one per agent, thousands per leaf) and Push are served on the
// service's own completion queues (ServerQueues), each with its thread,
// instead of gRPC's one callback queue of the process (whose threads would
// otherwise hand every read over to it); LastSequence is a callback method.
class IngestService final
    : public v1::Ingest::WithAsyncMethod_Push<v1::Ingest::WithAsyncMethod_Stream<
          v1::Ingest::WithCallbackMethod_LastSequence<v1::Ingest::Service>>>,
      public QueuedService {
 public:
  // `sink` (may be null) is told of each applied batch.
  IngestService(SeriesStore* store, const BatchValidator* validator, IngestMetrics* metrics,
                AppliedBatchSink* sink = nullptr, int stream_queues = kDefaultStreamQueues)
      : store_(store),
        validator_(validator),
        metrics_(metrics),
        sink_(sink),
        queues_(stream_queues) {}
  ~IngestService() override { StopServing(); }

  grpc::ServerUnaryReactor* LastSequence(grpc::CallbackServerContext* context,
                                         const v1::LastSequenceRequest* request,
                                         v1::IngestAck* response) override;

  // QueuedService (StartGrpcServer calls these).
  void AddQueues(grpc::ServerBuilder* builder) override { queues_.AddTo(builder); }
  void StartQueues() override;
  // After the server's Shutdown(), which ends every stream: waits until
  // each has ended, then stops the queues; from then on no batch is
  // handled. Idempotent; the destructor calls it too.
  void StopServing() { queues_.Stop(); }

  // Push and Stream calls open now (not yet done).
  size_t OpenStreams() const;
  // Blocks until exactly `n` are open, or `timeout` passes; returns whether
  // they are (tests, tools).
  bool WaitForOpenStreams(size_t n, absl::Duration timeout) const;

 private:
  class IngestStream;
  class PushStream;

  // Puts the stream's numbered series back into `batch` (`dict`), then
  // validates and applies it; metrics it declares are learned and kept in
  // the store, counting it into `ack`. Fails with INVALID_ARGUMENT for an
  // invalid batch or with the store's error.
  absl::Status HandleBatch(v1::IngestBatch& batch, SeriesDictDecoder& dict, v1::IngestAck& ack);

  // A reactor counts itself open from its start to its OnDone.
  void StreamOpened();
  // Also forgets the stream's numbered series in the metrics.
  void StreamDone(const SeriesDictDecoder& dict);

  SeriesStore* store_;
  const BatchValidator* validator_;
  IngestMetrics* metrics_;
  AppliedBatchSink* sink_;
  ServerQueues queues_;
  mutable absl::Mutex streams_mu_;
  size_t streams_ ABSL_GUARDED_BY(streams_mu_) = 0;
};

}  // namespace andon::aggregator
