#pragma once

// Private to the simulator: the two streams of a SimAgent.

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/agent.grpc.pb.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "common/series_dict.h"

namespace andon::bench {

class SimAgent;

// Both streams are made under the agent's lock and started outside it (gRPC
// may run a reaction inline in the starting thread), and own themselves
// from Start() to OnDone(): the agent's shared_ptr may go at any time.
// One write at a time; what is sent while a write is in flight waits.
// Writes start from the agent's timer thread, outside any reaction, so each
// stream holds itself open (AddHold) until its read side has ended and no
// write is in flight: a write never starts on a stream gRPC has finished,
// and none starts before the stream is bound (what is sent before waits).

// The control stream: hello first, then heartbeats. A heartbeat waiting
// behind the one in flight is replaced by a newer one (they carry state,
// not events).
class ControlStream final : public grpc::ClientBidiReactor<v1::AgentMessage, v1::ControlMessage> {
 public:
  explicit ControlStream(SimAgent* agent) : agent_(agent) {}
  void Start(std::shared_ptr<ControlStream> self, v1::AgentControl::Stub* stub,
             const v1::RegisterRequest& hello);
  void Send(const v1::Heartbeat& heartbeat);
  void Cancel() { context_.TryCancel(); }

  // Set by the agent, under its lock, at the stream's first probe set.
  bool attached = false;

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  SimAgent* const agent_;
  grpc::ClientContext context_;
  v1::ControlMessage in_;
  std::shared_ptr<ControlStream> self_;

  absl::Mutex mu_;
  v1::AgentMessage out_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::AgentMessage> next_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;     // the read side ended
  bool released_ ABSL_GUARDED_BY(mu_) = false;  // the hold is removed
};

// The ingest stream to the leaf: batches up, acks down. At most
// kMaxWaiting batches wait behind the one in flight (as many as the agent
// keeps to send again); older ones are dropped.
class IngestStream final : public grpc::ClientBidiReactor<v1::IngestBatch, v1::IngestAck> {
 public:
  static constexpr size_t kMaxWaiting = 32;

  explicit IngestStream(SimAgent* agent) : agent_(agent) {}
  void Start(std::shared_ptr<IngestStream> self, v1::Ingest::Stub* stub);
  void Send(v1::IngestBatch batch);
  void Cancel() { context_.TryCancel(); }

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  SimAgent* const agent_;
  grpc::ClientContext context_;
  v1::IngestAck in_;
  std::shared_ptr<IngestStream> self_;

  absl::Mutex mu_;
  v1::IngestBatch out_ ABSL_GUARDED_BY(mu_);  // in flight while writing_
  std::deque<v1::IngestBatch> waiting_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;  // bound: writes may start
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;    // a write failed or the read side ended
  bool ended_ ABSL_GUARDED_BY(mu_) = false;     // the read side ended
  bool released_ ABSL_GUARDED_BY(mu_) = false;  // the hold is removed
  bool numbered_ ABSL_GUARDED_BY(mu_) = false;  // the leaf reads series_ref
  SeriesDictEncoder dict_ ABSL_GUARDED_BY(mu_);

  // Makes `batch` the one in flight, numbering its series once allowed.
  void TakeLocked(v1::IngestBatch batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace andon::bench
