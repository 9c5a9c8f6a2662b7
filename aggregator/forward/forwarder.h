#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/forward/forward_metrics.h"
#include "aggregator/forward/outbox.h"
#include "aggregator/forward/window_reducer.h"
#include "aggregator/ingest_service.h"
#include "aggregator/storage/series_store.h"
#include "andon/v1/agent.pb.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "common/clock.h"
#include "common/metric_catalog.h"
#include "common/stop_signal.h"

namespace andon::aggregator {

struct ForwarderOptions {
  std::string id;  // this aggregator's id: the sender id at the parent
  // A window is closed and handed on this long after it ends; later data
  // for it goes up as an amendment.
  absl::Duration admission_delay = absl::Seconds(3);
  absl::Duration tick = absl::Seconds(1);
  size_t max_points_per_batch = 10000;
  size_t max_batches_per_stream = 32;
  size_t max_pending_points = 2'000'000;
  absl::Duration rpc_timeout = absl::Seconds(30);
  absl::Duration backoff_initial = absl::Milliseconds(500);
  absl::Duration backoff_max = absl::Seconds(15);
};

// Forwards this aggregator's closed windows, reduced, to its parent: every
// stored point goes through a WindowReducer; each tick the windows that
// ended more than admission_delay ago go into the Outbox as batches (sender
// = this aggregator, kind AGGREGATOR, sequenced), and a sender sends the
// outbox in order over Ingest.Push, deleting what the parent acknowledged.
// The parent dedups by sequence, so a batch resent after a crash or a lost
// ack is applied once; windows not yet closed when the process died are
// rebuilt from the series store by Recover(). Late points (for windows
// already handed on) are kept in the outbox at once, each batch's as a
// record, and go up merged with the next tick's windows as one amendment:
// a leaf whose agents all fall behind sends its parent one batch a tick,
// not one per agent batch.
// Thread-safe. The outbox, store, catalog and clock must outlive it.
class Forwarder final : public AppliedBatchSink {
 public:
  Forwarder(ForwarderOptions options, Outbox* outbox, const SeriesStore* store,
            const MetricCatalog* catalog, const Clock* clock, ForwardMetrics metrics);
  ~Forwarder() override;
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Loads the rules and cursor and rebuilds the windows not yet closed from
  // the store. Call once, before ingest starts.
  absl::Status Recover();
  void Start();
  void Stop();

  // Where to send; an empty address pauses sending (windows still close
  // into the outbox).
  void SetParent(const v1::AggregatorRef& parent) ABSL_LOCKS_EXCLUDED(mu_);
  // New forwarding rules, kept in the outbox for Recover(); they apply to
  // points added from now on.
  absl::Status SetRules(const std::vector<v1::ForwardRule>& rules) ABSL_LOCKS_EXCLUDED(mu_);

  void OnApplied(const v1::IngestBatch& batch) override;
  // Drops the labels kept for hosts the store forgot.
  void OnForgotten(const std::vector<std::string>& senders) override;

  // Moves the windows that are due into the outbox (the thread does this
  // every tick).
  absl::Status CloseDue();

 private:
  void Run();
  // One stream to the parent carrying the oldest outbox batches.
  absl::Status SendOnce(const std::string& address);
  // Puts `points` into the outbox as batches, moving the cursor to `cursor`
  // and deleting the late records up to `late_through`.
  absl::Status Queue(std::vector<v1::Point> points, int64_t cursor, uint64_t late_through);
  v1::Ingest::Stub* StubFor(const std::string& address) ABSL_LOCKS_EXCLUDED(mu_);
  // The labels of the agent `sender` as its batches last said, updated from
  // `batch` when it says; nullopt if never said.
  std::optional<v1::HostLabels> HostLabelsFor(const v1::IngestBatch& batch)
      ABSL_LOCKS_EXCLUDED(labels_mu_);

  const ForwarderOptions options_;
  Outbox* const outbox_;
  const SeriesStore* const store_;
  const MetricCatalog* const catalog_;
  const Clock* const clock_;
  ForwardMetrics metrics_;
  std::unique_ptr<WindowReducer> reducer_;
  // Shared by OnApplied (a late point into the reducer and its record into
  // the outbox), exclusive to CloseDue (which records it folds).
  absl::Mutex late_mu_;
  StopSignal stop_;
  std::thread thread_;

  absl::Mutex labels_mu_;
  // Agents' labels by host id, for rules that keep host labels.
  absl::flat_hash_map<std::string, v1::HostLabels> host_labels_ ABSL_GUARDED_BY(labels_mu_);

  absl::Mutex mu_;
  std::string parent_address_ ABSL_GUARDED_BY(mu_);
  std::string stub_address_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<v1::Ingest::Stub> stub_ ABSL_GUARDED_BY(mu_);
  std::string rules_text_ ABSL_GUARDED_BY(mu_);  // serialized, to notice changes
};

}  // namespace andon::aggregator
