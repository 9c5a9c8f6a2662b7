#include "aggregator/ingest_stream.h"

#include "common/grpc_status.h"
#include "common/log.h"

namespace andon::aggregator {

void IngestService::IngestStream::Request(IngestService* service,
                                          grpc::ServerCompletionQueue* queue) {
  service->queues_.CallBegins();
  auto* s = new IngestStream(service, queue);
  // Before the request: gRPC reads it when the call starts.
  s->context_.AsyncNotifyWhenDone(&s->call_done_);
  service->RequestStream(&s->context_, &s->stream_, queue, queue, &s->requested_);
}

IngestService::IngestStream::IngestStream(IngestService* service,
                                          grpc::ServerCompletionQueue* queue)
    : service_(service), queue_(queue) {
  // Tells the sender, with every ack, that it may number its series.
  ack_.set_series_refs(true);
}

void IngestService::IngestStream::OnRequested(bool ok) {
  if (!ok) {  // the server is shutting down; gRPC tells no call done
    Release();
    return;
  }
  Request(service_, queue_);  // the next sender's
  started_ = true;
  peer_ = context_.peer();
  service_->StreamOpened();
  stream_.Read(&batch_, &read_done_);
}

void IngestService::IngestStream::OnReadDone(bool ok) {
  if (!ok) {  // the sender closed its side, or the call was cancelled
    Finish(grpc::Status::OK);
    return;
  }
  absl::Status s = service_->HandleBatch(batch_, dict_, ack_);
  if (!s.ok()) {
    ANDON_LOG(WARNING) << "ingest stream from " << peer_ << " ended: " << s.message();
    Finish(ToGrpcStatus(s));
    return;
  }
  stream_.Write(ack_, &write_done_);
}

void IngestService::IngestStream::OnWriteDone(bool ok) {
  if (!ok) {  // the sender went away
    Finish(grpc::Status::CANCELLED);
    return;
  }
  stream_.Read(&batch_, &read_done_);
}

void IngestService::IngestStream::OnEnding(bool) {
  if (endings_.Last()) Release();
}

void IngestService::IngestStream::Release() {
  IngestService* service = service_;
  if (started_) service->StreamDone(dict_);
  delete this;
  service->queues_.CallEnds();
}

void IngestService::PushStream::Request(IngestService* service,
                                        grpc::ServerCompletionQueue* queue) {
  service->queues_.CallBegins();
  auto* s = new PushStream(service, queue);
  s->context_.AsyncNotifyWhenDone(&s->call_done_);
  service->RequestPush(&s->context_, &s->reader_, queue, queue, &s->requested_);
}

void IngestService::PushStream::OnRequested(bool ok) {
  if (!ok) {  // the server is shutting down; gRPC tells no call done
    Release();
    return;
  }
  Request(service_, queue_);
  started_ = true;
  peer_ = context_.peer();
  service_->StreamOpened();
  reader_.Read(&batch_, &read_done_);
}

void IngestService::PushStream::OnReadDone(bool ok) {
  if (!ok) {  // the sender closed its side (or the call was cancelled)
    reader_.Finish(ack_, grpc::Status::OK, &finished_);
    return;
  }
  absl::Status s = service_->HandleBatch(batch_, dict_, ack_);
  if (!s.ok()) {
    ANDON_LOG(WARNING) << "ingest stream from " << peer_ << " ended: " << s.message();
    reader_.FinishWithError(ToGrpcStatus(s), &finished_);
    return;
  }
  reader_.Read(&batch_, &read_done_);
}

void IngestService::PushStream::OnEnding(bool) {
  if (endings_.Last()) Release();
}

void IngestService::PushStream::Release() {
  IngestService* service = service_;
  if (started_) service->StreamDone(dict_);
  delete this;
  service->queues_.CallEnds();
}

}  // namespace andon::aggregator
