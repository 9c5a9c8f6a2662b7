#pragma once

// Private to ingest_service.cc and ingest_stream.cc.

#include <memory>
#include <string>

#include "aggregator/ingest_service.h"
#include "common/series_dict.h"
#include "common/server_queues.h"

namespace andon::aggregator {

// One sender's Ingest.Stream, served on one of the service's completion
// queues: reads a batch, handles it, writes its ack, then reads the next;
// one batch in flight, so acks come in order. Every operation completes on
// the queue's one thread and none overlaps another, so the stream needs no
// lock. It holds itself from Request() until gRPC has both finished the
// call and told it done (or refused the request at shutdown).
class IngestService::IngestStream final {
 public:
  // Asks gRPC for the next Stream call on `queue`.
  static void Request(IngestService* service, grpc::ServerCompletionQueue* queue);
  IngestStream(IngestService* service, grpc::ServerCompletionQueue* queue);

 private:
  using Op = MemberTag<IngestStream>;

  void OnRequested(bool ok);
  void OnReadDone(bool ok);
  void OnWriteDone(bool ok);
  // Its Finish, or gRPC's word that it is done: after both, Release().
  void OnEnding(bool ok);
  void Finish(const grpc::Status& status) { stream_.Finish(status, &finished_); }
  // Once the call is finished and done (or never started): counts the
  // stream gone and deletes it.
  void Release();

  IngestService* const service_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<v1::IngestAck, v1::IngestBatch> stream_{&context_};
  Op requested_{this, &IngestStream::OnRequested};
  Op read_done_{this, &IngestStream::OnReadDone};
  Op write_done_{this, &IngestStream::OnWriteDone};
  Op finished_{this, &IngestStream::OnEnding};
  Op call_done_{this, &IngestStream::OnEnding};
  CallEndings endings_;
  bool started_ = false;

  std::string peer_;
  v1::IngestBatch batch_;
  v1::IngestAck ack_;  // cumulative over the stream
  SeriesDictDecoder dict_;
};

// One sender's Ingest.Push (a forwarder's, or a tool's), on one of the
// service's completion queues: reads a batch, handles it, reads the next;
// a clean end of the sender's side is answered with the cumulative ack.
// Lifetime and threading as IngestStream's.
class IngestService::PushStream final {
 public:
  static void Request(IngestService* service, grpc::ServerCompletionQueue* queue);
  PushStream(IngestService* service, grpc::ServerCompletionQueue* queue)
      : service_(service), queue_(queue) {}

 private:
  using Op = MemberTag<PushStream>;

  void OnRequested(bool ok);
  void OnReadDone(bool ok);
  void OnEnding(bool ok);
  void Release();

  IngestService* const service_;
  grpc::ServerCompletionQueue* const queue_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReader<v1::IngestAck, v1::IngestBatch> reader_{&context_};
  Op requested_{this, &PushStream::OnRequested};
  Op read_done_{this, &PushStream::OnReadDone};
  Op finished_{this, &PushStream::OnEnding};
  Op call_done_{this, &PushStream::OnEnding};
  CallEndings endings_;
  bool started_ = false;

  std::string peer_;
  v1::IngestBatch batch_;
  v1::IngestAck ack_;
  SeriesDictDecoder dict_;
};

}  // namespace andon::aggregator
