#include "aggregator/ingest_service.h"

#include "absl/time/clock.h"
#include "aggregator/ingest_stream.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/series_dict.h"

namespace andon::aggregator {

void IngestService::StreamOpened() {
  metrics_->streams_open.Increment();
  absl::MutexLock lock(&streams_mu_);
  ++streams_;
}

void IngestService::StreamDone(const SeriesDictDecoder& dict) {
  // Before the stream count: once it reads 0, so does this.
  metrics_->series_numbered.Decrement(static_cast<double>(dict.size()));
  metrics_->streams_open.Decrement();
  absl::MutexLock lock(&streams_mu_);
  --streams_;
}

size_t IngestService::OpenStreams() const {
  absl::MutexLock lock(&streams_mu_);
  return streams_;
}

bool IngestService::WaitForOpenStreams(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&streams_mu_);
  auto open_is_n = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(streams_mu_) { return streams_ == n; };
  return streams_mu_.AwaitWithTimeout(absl::Condition(&open_is_n), timeout);
}

void IngestService::StartQueues() {
  queues_.Start([this](grpc::ServerCompletionQueue* queue) {
    // A few calls requested ahead on each queue: agents connecting at once
    // do not wait for the queue's thread to ask for each one.
    for (int i = 0; i < 4; ++i) IngestStream::Request(this, queue);
    PushStream::Request(this, queue);
  });
}

grpc::ServerUnaryReactor* IngestService::LastSequence(grpc::CallbackServerContext* context,
                                                      const v1::LastSequenceRequest* request,
                                                      v1::IngestAck* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->sender_id().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "LastSequence needs a sender_id (the host id)"));
    return reactor;
  }
  absl::StatusOr<uint64_t> last = store_->LastSequence(request->sender_id());
  if (!last.ok()) {
    reactor->Finish(ToGrpcStatus(last.status()));
    return reactor;
  }
  response->set_last_sequence(*last);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

absl::Status IngestService::HandleBatch(v1::IngestBatch& batch, SeriesDictDecoder& dict,
                                        v1::IngestAck& ack) {
  metrics_->batches_received.Increment();
  metrics_->points_received.Increment(batch.points_size());
  metrics_->bytes_received.Increment(static_cast<double>(batch.ByteSizeLong()));
  SeriesDictDecoder::Lent lent(dict, batch);
  const size_t numbered = dict.size();
  absl::Status decoded = dict.Decode(batch);
  metrics_->series_numbered.Increment(static_cast<double>(dict.size() - numbered));
  if (!decoded.ok()) {
    metrics_->batches_rejected.Increment();
    return decoded;
  }
  if (absl::Status s = validator_->Validate(batch); !s.ok()) {
    metrics_->batches_rejected.Increment();
    return s;
  }
  for (const v1::MetricInfo& m : validator_->Learn(batch)) {
    ANDON_LOG(INFO) << "learned metric '" << m.name() << "' (" << v1::MetricKind_Name(m.kind())
                    << ") from '" << batch.sender_id() << "'";
    if (absl::Status s = store_->PutMetricInfo(m); !s.ok()) {
      metrics_->store_errors.Increment();
      return s;
    }
  }
  absl::StatusOr<ApplyResult> applied = store_->ApplyBatch(batch);
  if (!applied.ok()) {
    metrics_->store_errors.Increment();
    ANDON_LOG(ERROR) << "storing batch from '" << batch.sender_id() << "' sequence "
                     << batch.sequence() << ": " << applied.status().message();
    return applied.status();
  }
  const StoreStats stats = store_->Stats();
  metrics_->open_windows.Set(static_cast<double>(stats.open_windows));
  metrics_->logged_batches.Set(static_cast<double>(stats.logged_batches));
  metrics_->rollup_lag_seconds.Set(
      absl::ToDoubleSeconds(absl::Now() - absl::FromUnixNanos(stats.rolled_up_until_ns)));
  ack.set_last_sequence(applied->last_sequence);
  if (applied->duplicate) {
    metrics_->batches_duplicate.Increment();
    ack.set_batches_duplicate(ack.batches_duplicate() + 1);
  } else {
    ack.set_batches_accepted(ack.batches_accepted() + 1);
    ack.set_points_accepted(ack.points_accepted() + applied->points_applied);
    if (applied->points_collided > 0) {
      metrics_->points_collided.Increment(static_cast<double>(applied->points_collided));
    }
    if (applied->series_forgotten > 0) {
      metrics_->series_forgotten.Increment(static_cast<double>(applied->series_forgotten));
    }
    if (applied->senders_forgotten > 0) {
      metrics_->senders_forgotten.Increment(static_cast<double>(applied->senders_forgotten));
    }
    if (applied->points_late > 0) {
      metrics_->points_late.Increment(static_cast<double>(applied->points_late));
    }
    if (sink_ != nullptr) {
      sink_->OnApplied(batch);
      if (!applied->forgotten_senders.empty()) sink_->OnForgotten(applied->forgotten_senders);
    }
  }
  return absl::OkStatus();
}

}  // namespace andon::aggregator
