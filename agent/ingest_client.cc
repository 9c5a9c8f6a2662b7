#include "agent/ingest_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>

#include "absl/container/flat_hash_set.h"
#include "agent/retry_delay.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "common/backoff.h"
#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/series_dict.h"

namespace andon::agent {
IngestClient::IngestClient(IngestClientOptions options, AgentMetrics& metrics, Clock* clock)
    : options_(std::move(options)), metrics_(metrics), clock_(clock) {
  next_sequence_ = options_.sequence_base != 0
                       ? options_.sequence_base
                       : static_cast<uint64_t>(absl::ToUnixMillis(clock_->Now())) * 1000;
  if (options_.spool != nullptr) {
    next_sequence_ = std::max(next_sequence_, options_.spool->last_sequence());
    absl::MutexLock lock(&mu_);
    spilled_ = options_.spool->unacknowledged() > 0;
    RefillFromSpool();
  }
}

void IngestClient::RefillFromSpool() {
  if (options_.spool == nullptr || !spilled_) return;
  const size_t held = queue_.size() + written_.size();
  if (held >= options_.max_queued_batches / 2 + 1) return;
  uint64_t after = acked_through_;
  if (!written_.empty()) after = written_.back().sequence();
  if (!queue_.empty()) after = queue_.back().sequence();
  const size_t want = options_.max_queued_batches - held;
  absl::StatusOr<std::vector<v1::IngestBatch>> more = options_.spool->ReadAfter(after, want);
  if (!more.ok()) {
    ANDON_LOG(ERROR) << "ingest: reading the spool: " << more.status().message();
    return;
  }
  for (v1::IngestBatch& b : *more) queue_.push_back(std::move(b));
  if (more->size() < want) spilled_ = false;
  metrics_.ingest_queue_batches.Set(static_cast<double>(queue_.size()));
}

void IngestClient::ForgetDropped(uint64_t through, uint64_t dropped) {
  while (!written_.empty() && written_.front().sequence() <= through) written_.pop_front();
  while (!queue_.empty() && queue_.front().sequence() <= through) queue_.pop_front();
  for (uint64_t i = 0; i < dropped; ++i) CountDropped();
  ANDON_LOG(WARNING) << "ingest: spool full; dropped its oldest " << dropped
                     << " unacknowledged batches (through sequence " << through << ")";
}

IngestClient::~IngestClient() { Stop(); }

void IngestClient::Start() {
  absl::MutexLock lock(&mu_);
  if (running_ || thread_.joinable()) return;
  running_ = true;
  thread_ = std::thread([this] { Run(); });
  watchdog_ = std::thread([this] { WatchRetargets(); });
}

void IngestClient::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
    // The sender now delivers the queue to the current aggregator and closes
    // the stream cleanly (so its ack arrives); past the grace it is cancelled.
    auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !running_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&stopped), options_.stop_grace)) {
      give_up_ = true;
      cv_.SignalAll();
      if (active_ != nullptr) active_->TryCancel();
    }
  }
  if (thread_.joinable()) thread_.join();
  if (watchdog_.joinable()) watchdog_.join();
  absl::MutexLock lock(&mu_);
  if (options_.spool != nullptr) {
    const size_t kept = options_.spool->unacknowledged();
    if (kept > 0) {
      ANDON_LOG(INFO) << "ingest: " << kept
                      << " unacknowledged batches stay in the spool for the next run";
    }
    queue_.clear();
    written_.clear();
    metrics_.ingest_queue_batches.Set(0);
    return;
  }
  // Written but never acknowledged counts as not delivered, with the unsent.
  std::deque<v1::IngestBatch> left = std::move(written_);
  written_.clear();
  for (v1::IngestBatch& b : queue_) left.push_back(std::move(b));
  queue_.clear();
  metrics_.ingest_queue_batches.Set(0);
  if (left.empty()) return;
  ANDON_LOG(WARNING) << "ingest: " << left.size() << " batches (sequences "
                     << left.front().sequence() << ".." << left.back().sequence()
                     << ") were not acknowledged before shutdown; dropped";
  for (size_t i = 0; i < left.size(); ++i) CountDropped();
}

void IngestClient::SetTarget(const std::string& address) {
  absl::MutexLock lock(&mu_);
  if (address == target_) {
    // A fresh assignment to the same aggregator (e.g. after the controller
    // restarted) is news that it is up: cut any backoff short.
    retry_now_ = true;
    cv_.SignalAll();
    return;
  }
  ANDON_LOG(INFO) << "ingest target: " << (address.empty() ? "(none)" : address);
  // The sender notices, closes the old stream cleanly (so its ack tells which
  // batches the old aggregator applied) and opens one to the new target.
  target_ = address;
  cv_.SignalAll();
}

void IngestClient::Enqueue(std::vector<v1::Point> points,
                           const std::vector<v1::MetricInfo>& metrics) {
  // Large windows are split so that no batch exceeds what the aggregator
  // accepts (points per batch, and gRPC's 4 MB message limit).
  const size_t chunk = std::max<size_t>(1, options_.max_points_per_batch);
  std::optional<v1::HostLabels> labels;
  {
    absl::MutexLock lock(&labels_mu_);
    labels = host_labels_;
  }
  for (size_t begin = 0; begin < points.size(); begin += chunk) {
    v1::IngestBatch batch;
    batch.set_sender_id(options_.sender_id);
    batch.set_sender_kind(v1::AGENT);
    if (labels) *batch.mutable_host_labels() = *labels;
    const size_t end = std::min(points.size(), begin + chunk);
    batch.mutable_points()->Reserve(static_cast<int>(end - begin));
    absl::flat_hash_set<std::string> used;
    for (size_t i = begin; i < end; ++i) {
      used.insert(points[i].series().metric());
      *batch.add_points() = std::move(points[i]);
    }
    for (const v1::MetricInfo& m : metrics) {
      if (used.contains(m.name())) *batch.add_metrics() = m;
    }
    Push(std::move(batch));
  }
}

void IngestClient::SetHostLabels(v1::HostLabels labels) {
  absl::MutexLock lock(&labels_mu_);
  host_labels_ = std::move(labels);
}

void IngestClient::Push(v1::IngestBatch batch) {
  absl::MutexLock lock(&mu_);
  batch.set_sequence(++next_sequence_);
  if (options_.spool != nullptr) {
    uint64_t dropped = 0;
    absl::StatusOr<uint64_t> through = options_.spool->Append(batch, &dropped);
    if (!through.ok()) {
      ANDON_LOG(ERROR) << "ingest: " << through.status().message()
                       << "; this batch is kept in memory only";
    } else if (dropped > 0) {
      // The batch is on disk: memory takes it, in order, from there.
      ForgetDropped(*through, dropped);
      spilled_ = true;
      RefillFromSpool();
      cv_.SignalAll();
      return;
    }
    if (through.ok() &&
        (spilled_ || queue_.size() + written_.size() >= options_.max_queued_batches)) {
      spilled_ = true;  // it waits on disk
      cv_.SignalAll();
      return;
    }
  }
  queue_.push_back(std::move(batch));
  if (queue_.size() > options_.max_queued_batches) {
    queue_.pop_front();
    CountDropped();
  }
  metrics_.ingest_queue_batches.Set(static_cast<double>(queue_.size()));
  cv_.SignalAll();
}

void IngestClient::CountDropped() {
  stats_.set_batches_dropped(stats_.batches_dropped() + 1);
  metrics_.batches_dropped.Increment();
}

v1::AgentStats IngestClient::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

size_t IngestClient::unacknowledged() const {
  absl::MutexLock lock(&mu_);
  return written_.size();
}

size_t IngestClient::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

uint64_t IngestClient::last_enqueued_sequence() const {
  absl::MutexLock lock(&mu_);
  return next_sequence_;
}

bool IngestClient::Interrupted(const std::string& target) const {
  return stopping_ || target_ != target;
}

void IngestClient::Run() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool drain_tried = false;  // once stopping: one more stream, without backoff
  while (true) {
    std::string target;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !target_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) {
        // A stream open when Stop() came has drained the queue, or failed;
        // otherwise (backing off, or that stream failed) try one more.
        if (drain_tried || give_up_ || queue_.empty() || target_.empty()) break;
        drain_tried = true;
      }
      target = target_;
      // News that the aggregator is up counts from here: news that comes
      // while this attempt fails must still cut the backoff after it short.
      retry_now_ = false;
    }
    bool progressed = false;
    absl::Status s = StreamTo(target, &progressed);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) continue;          // the check above decides whether to go on
      if (target_ != target) continue;  // retargeted: connect to the new one at once
    }
    if (absl::IsInvalidArgument(s)) DropRejected(target, s);
    if (progressed) backoff.Reset();
    absl::Duration delay = backoff.Next();
    metrics_.ingest_reconnects.Increment();
    ANDON_LOG(WARNING) << "ingest stream to aggregator " << target << " failed ("
                       << (s.ok() ? "closed by the aggregator" : s.message())
                       << "); reconnecting in " << RetryDelayText(delay);
    SleepUnlessInterrupted(delay, target);
  }
  absl::MutexLock lock(&mu_);
  running_ = false;
}

void IngestClient::DropRejected(const std::string& target, const absl::Status& why) {
  // The aggregator applies a stream's batches in order and stops at the
  // first invalid one, so every written batch older than the culprit was
  // applied. Dropping the oldest written batch per rejection therefore only
  // discards applied batches until it discards the culprit, and a poison
  // batch cannot block the queue forever.
  absl::MutexLock lock(&mu_);
  if (written_.empty()) return;
  ANDON_LOG(ERROR) << "aggregator " << target << " rejected a batch (" << why.message()
                   << "); no longer resending batch " << written_.front().sequence();
  if (options_.spool != nullptr) options_.spool->Acknowledge(written_.front().sequence());
  written_.pop_front();
  metrics_.batches_rejected.Increment();
}

void IngestClient::WatchRetargets() {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto stale = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || (active_ != nullptr && active_target_ != target_);
    };
    mu_.Await(absl::Condition(&stale));
    // Once stopping, Stop() bounds the stream's life itself.
    if (stopping_) return;
    const uint64_t id = active_id_;
    auto settled = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || active_id_ != id || active_target_ == target_;
    };
    if (mu_.AwaitWithTimeout(absl::Condition(&settled), options_.retarget_grace)) continue;
    // Still open: the old aggregator neither reads (Write blocks on flow
    // control) nor ends the call (Finish blocks). Unsent batches stay queued
    // and go to the new target; written ones are resent there.
    ANDON_LOG(WARNING) << "ingest stream to previous aggregator " << active_target_
                       << " did not close within " << options_.retarget_grace
                       << " of the switch to " << target_ << "; cancelling it";
    active_->TryCancel();
    auto closed = [this, id]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || active_id_ != id; };
    mu_.Await(absl::Condition(&closed));
  }
}

bool IngestClient::SleepUnlessInterrupted(absl::Duration d, const std::string& target) {
  absl::MutexLock lock(&mu_);
  absl::Time deadline = absl::Now() + d;
  while (!Interrupted(target) && !retry_now_) {
    if (cv_.WaitWithDeadline(&mu_, deadline)) break;  // timed out
  }
  return !stopping_;
}

void IngestClient::Acknowledge(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  while (!written_.empty() && written_.front().sequence() <= sequence) written_.pop_front();
  acked_through_ = std::max(acked_through_, sequence);
  if (options_.spool != nullptr) options_.spool->Acknowledge(sequence);
  RefillFromSpool();
}

void IngestClient::SettleWithPrevious(const std::string& target) {
  std::string previous;
  {
    absl::MutexLock lock(&mu_);
    if (last_target_.empty() || last_target_ == target || written_.empty()) return;
    previous = last_target_;
  }
  auto stub = v1::Ingest::NewStub(NewChannel(previous));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.retarget_grace));
  v1::LastSequenceRequest request;
  request.set_sender_id(options_.sender_id);
  v1::IngestAck ack;
  grpc::Status status = stub->LastSequence(&ctx, request, &ack);
  if (status.ok()) {
    Acknowledge(ack.last_sequence());
    ANDON_LOG(INFO) << "ingest: previous aggregator " << previous << " has batches up to "
                    << ack.last_sequence() << "; resending the rest to " << target;
  } else {
    ANDON_LOG(WARNING) << "ingest: previous aggregator " << previous << " did not say what it "
                       << "has (" << status.error_message() << "); resending every "
                       << "unacknowledged batch to " << target;
  }
  absl::MutexLock lock(&mu_);
  last_target_ = target;
}

absl::Status IngestClient::StreamTo(const std::string& target, bool* progressed) {
  SettleWithPrevious(target);
  // A channel of its own (not from gRPC's process-wide subchannel pool): a
  // connection that failed a moment ago may still sit there in gRPC's own
  // reconnect backoff, and a stream opened because the aggregator is back
  // would then fail at once without trying. This client paces its retries.
  auto stub = v1::Ingest::NewStub(NewChannel(target, {.connection_key = "ingest"}));
  grpc::ClientContext ctx;
  std::vector<v1::IngestBatch> resend;
  {
    absl::MutexLock lock(&mu_);
    // While stopping, the sender may still open a stream to drain the queue.
    if (target_ != target || give_up_) return absl::OkStatus();
    active_ = &ctx;
    active_id_ = ++streams_opened_;
    active_target_ = target;
    last_target_ = target;
    read_done_ = false;
    resend.assign(written_.begin(), written_.end());
  }
  auto stream = stub->Stream(&ctx);
  // Series are sent whole until the aggregator's first ack says it reads
  // numbered ones (an older one does not); from then on each crosses this
  // stream once (common/series_dict.h).
  std::atomic<bool> numbered{false};
  SeriesDictEncoder dict;
  auto write = [&](v1::IngestBatch& b) {
    if (numbered.load(std::memory_order_relaxed)) dict.Encode(b);
    return stream->Write(b);
  };
  // Acks arrive on their own thread: a sync stream's Read blocks. When the
  // aggregator ends the call the reader sees it first and wakes the writer,
  // so that the stream is replaced at once, not at the next window.
  std::thread reader([&] {
    v1::IngestAck ack;
    while (stream->Read(&ack)) {
      if (ack.series_refs()) numbered.store(true, std::memory_order_relaxed);
      Acknowledge(ack.last_sequence());
    }
    absl::MutexLock lock(&mu_);
    read_done_ = true;
  });

  bool ok = true;
  for (v1::IngestBatch& b : resend) {
    if (!(ok = write(b))) break;
  }
  while (ok) {
    v1::IngestBatch batch;
    {
      absl::MutexLock lock(&mu_);
      RefillFromSpool();
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || Interrupted(target) || give_up_ || read_done_;
      };
      mu_.Await(absl::Condition(&ready));
      // Stopping ends the stream only once the queue is drained.
      if (target_ != target || give_up_ || read_done_ || queue_.empty()) break;
      // Into written_ before the Write: its ack may come back before Write
      // returns. A failed Write leaves it there, to be resent.
      batch = std::move(queue_.front());
      queue_.pop_front();
      written_.push_back(batch);
      // The bound covers both: a slow acker must not grow memory either.
      while (written_.size() + queue_.size() > options_.max_queued_batches) {
        written_.pop_front();
        CountDropped();
      }
      metrics_.ingest_queue_batches.Set(static_cast<double>(queue_.size()));
    }
    ok = write(batch);
    if (!ok) break;
    *progressed = true;
    AccountSent(batch);
  }
  // The aggregator acks what is in flight and ends the call once we are done.
  if (ok) stream->WritesDone();
  reader.join();
  grpc::Status status = stream->Finish();

  absl::MutexLock lock(&mu_);
  active_ = nullptr;
  active_id_ = 0;
  active_target_.clear();
  if (!status.ok()) return FromGrpcStatus(status);
  return absl::OkStatus();
}

// `batch` as written: its bytes are those on the wire.
void IngestClient::AccountSent(const v1::IngestBatch& batch) {
  const size_t bytes = batch.ByteSizeLong();
  metrics_.batches_sent.Increment();
  metrics_.points_sent.Increment(batch.points_size());
  metrics_.bytes_sent.Increment(static_cast<double>(bytes));
  absl::MutexLock lock(&mu_);
  stats_.set_batches_sent(stats_.batches_sent() + 1);
  stats_.set_points_sent(stats_.points_sent() + batch.points_size());
  stats_.set_bytes_sent(stats_.bytes_sent() + bytes);
}

}  // namespace andon::agent
