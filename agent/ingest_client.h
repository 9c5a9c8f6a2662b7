#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/agent_metrics.h"
#include "agent/spool.h"
#include "andon/v1/agent.pb.h"
#include "andon/v1/ingest.pb.h"
#include "common/clock.h"

namespace grpc {
class ClientContext;
}

namespace andon::agent {

struct IngestClientOptions {
  std::string sender_id;  // the host id
  // Batches waiting to be sent plus those sent and not yet acknowledged:
  // about 5 minutes of 1 s windows. Past it the oldest is dropped, counted.
  size_t max_queued_batches = 300;
  // Larger windows are split into several batches (the aggregator accepts at
  // most 50,000 points per batch; gRPC messages are limited to 4 MB).
  size_t max_points_per_batch = 10000;
  // Stop() lets the sender this long to deliver what is queued to the
  // current aggregator before it cancels the stream.
  absl::Duration stop_grace = absl::Seconds(2);
  // After a retarget, a stream to the old aggregator that has not closed
  // within this (a wedged aggregator that neither reads nor acks) is cancelled.
  absl::Duration retarget_grace = absl::Seconds(2);
  absl::Duration backoff_initial = absl::Milliseconds(500);
  absl::Duration backoff_max = absl::Seconds(30);
  // First sequence is base + 1. 0 picks unix-ms * 1000 so that a restarted
  // agent continues above the sequences of its previous run.
  uint64_t sequence_base = 0;
  // With a spool (not owned; outlives the client), every batch is also on
  // disk until acknowledged: batches beyond max_queued_batches wait there
  // instead of being dropped (the spool's own bound drops the oldest,
  // counted), and those an earlier run left are sent first.
  Spool* spool = nullptr;
};

// Streams windows of points to the assigned aggregator over one long-lived
// Ingest.Stream. Enqueue() never blocks: batches wait in a bounded queue
// (the oldest is dropped and counted when it is full) and a sender thread
// writes them in order; the aggregator acks each batch once it is stored,
// and a written batch is kept until its ack. When the stream fails the
// thread reconnects with jittered backoff and resends every unacknowledged
// batch (the aggregator dedups by sequence). When the target changes, the
// first stream to the new one asks the old one (Ingest.LastSequence) which
// of them it already applied, so that a move between aggregators sends none
// twice while the old one answers. It closes the
// old stream and switches, and a watchdog thread cancels the old stream if it
// is still open after `retarget_grace` (the sync Write/Finish calls would
// otherwise wait on a wedged aggregator forever).
// Thread-safe.
class IngestClient {
 public:
  IngestClient(IngestClientOptions options, AgentMetrics& metrics, Clock* clock);
  ~IngestClient();
  IngestClient(const IngestClient&) = delete;
  IngestClient& operator=(const IngestClient&) = delete;

  void Start();
  // Stops the sender. It first delivers what is queued to the current
  // aggregator and closes the stream cleanly; after `stop_grace` the stream is
  // cancelled. Batches still unsent or unacknowledged then are discarded and
  // counted as dropped.
  // Returns within about stop_grace. Idempotent.
  void Stop();

  // Sends to `address` (host:port) from now on; "" pauses sending. Never
  // blocks: a stream to the old target is closed by the sender, or cancelled
  // after `retarget_grace`. Setting the current target again retries at once
  // if the sender is backing off.
  void SetTarget(const std::string& address);
  // Queues the points as batches of at most max_points_per_batch, each with
  // the next sequence; empty is a no-op.
  // `metrics` describes the metrics of the points; each batch carries the
  // descriptors of those its points use, so aggregators learn generic
  // probes' metrics from the data itself.
  void Enqueue(std::vector<v1::Point> points, const std::vector<v1::MetricInfo>& metrics = {});
  // The host's labels as the controller holds them, put on every batch
  // enqueued from now on (batches already queued or spooled keep theirs), so
  // that leaves can keep a host label on what they forward.
  void SetHostLabels(v1::HostLabels labels) ABSL_LOCKS_EXCLUDED(labels_mu_);

  v1::AgentStats stats() const;
  size_t queued() const;
  // Batches written and not yet acknowledged by an aggregator.
  size_t unacknowledged() const;
  uint64_t last_enqueued_sequence() const;

 private:
  void Run();
  // The watchdog thread: cancels a stream whose target is no longer current
  // once it has outlived retarget_grace.
  void WatchRetargets();
  // One stream's life; returns its final status and sets *progressed if
  // at least one batch was written.
  absl::Status StreamTo(const std::string& target, bool* progressed);
  // Sleeps `d` unless stopped or retargeted; true if the loop should go on.
  bool SleepUnlessInterrupted(absl::Duration d, const std::string& target);
  bool Interrupted(const std::string& target) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AccountSent(const v1::IngestBatch& batch);
  // Forgets written batches up to `sequence`: the aggregator has them.
  void Acknowledge(uint64_t sequence);
  // Before the first stream to `target` after a move: asks the previous
  // aggregator what it applied of the unacknowledged batches.
  void SettleWithPrevious(const std::string& target);
  // Gives `batch` the next sequence and queues it, dropping the oldest if full.
  void Push(v1::IngestBatch batch);
  void CountDropped() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Spool mode: brings batches that wait only on disk back into the queue.
  void RefillFromSpool() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The spool's bound dropped every batch through `through`: forget them.
  void ForgetDropped(uint64_t through, uint64_t dropped) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After the aggregator rejected a batch as invalid: drops the oldest
  // written batch, so that a batch it will never accept cannot block the rest.
  void DropRejected(const std::string& target, const absl::Status& why);

  const IngestClientOptions options_;
  AgentMetrics& metrics_;
  Clock* const clock_;
  std::thread thread_;
  std::thread watchdog_;

  absl::Mutex labels_mu_;
  std::optional<v1::HostLabels> host_labels_ ABSL_GUARDED_BY(labels_mu_);  // none until told
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;  // the sender thread
  bool give_up_ ABSL_GUARDED_BY(mu_) = false;  // Stop()'s grace is over
  std::string target_ ABSL_GUARDED_BY(mu_);
  bool retry_now_ ABSL_GUARDED_BY(mu_) = false;                 // set by a repeated assignment
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;  // for cancellation
  uint64_t active_id_ ABSL_GUARDED_BY(mu_) = 0;                 // the open stream; 0 = none
  std::string active_target_ ABSL_GUARDED_BY(mu_);
  uint64_t streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::IngestBatch> queue_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::IngestBatch> written_ ABSL_GUARDED_BY(mu_);  // unacked; resent after reconnect
  std::string last_target_ ABSL_GUARDED_BY(mu_);              // where written_ went
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;               // the open stream's acks ended
  bool spilled_ ABSL_GUARDED_BY(mu_) = false;                 // some batches wait on disk only
  uint64_t acked_through_ ABSL_GUARDED_BY(mu_) = 0;
  v1::AgentStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::agent
