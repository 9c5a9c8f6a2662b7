#include "aggregator/forward/forwarder.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/backoff.h"
#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "common/log.h"

namespace andon::aggregator {
namespace {}  // namespace

Forwarder::Forwarder(ForwarderOptions options, Outbox* outbox, const SeriesStore* store,
                     const MetricCatalog* catalog, const Clock* clock, ForwardMetrics metrics)
    : options_(std::move(options)),
      outbox_(outbox),
      store_(store),
      catalog_(catalog),
      clock_(clock),
      metrics_(metrics) {}

Forwarder::~Forwarder() { Stop(); }

absl::Status Forwarder::Recover() {
  absl::StatusOr<std::vector<v1::ForwardRule>> rules = outbox_->Rules();
  if (!rules.ok()) return rules.status();
  int64_t cursor = outbox_->cursor();
  if (cursor == 0) {
    // Never forwarded: start with the windows that are still open now.
    cursor = absl::ToUnixNanos(clock_->Now() - options_.admission_delay - absl::Seconds(1));
    if (absl::Status s = outbox_->Append({}, cursor); !s.ok()) return s;
  }
  reducer_ = std::make_unique<WindowReducer>(cursor, options_.max_pending_points);
  reducer_->SetRules(ForwardRules(*rules));
  {
    absl::MutexLock lock(&mu_);
    v1::ListAggregatorsResponse holder;
    for (const v1::ForwardRule& r : *rules) *holder.add_forward_rules() = r;
    rules_text_ = holder.SerializeAsString();
  }
  absl::StatusOr<std::map<std::string, v1::HostLabels>> labels = store_->LoadHostLabels();
  if (!labels.ok()) return labels.status();
  {
    absl::MutexLock lock(&labels_mu_);
    host_labels_.insert(labels->begin(), labels->end());
  }
  uint64_t recovered = 0;
  for (const v1::MetricInfo& metric : catalog_->List()) {
    absl::StatusOr<std::vector<SeriesRef>> series = store_->SelectSeries(metric.name(), {});
    if (!series.ok()) return series.status();
    for (const SeriesRef& ref : *series) {
      // Rebuilt windows carry the host's labels as they were last known.
      const v1::HostLabels* host = nullptr;
      for (const v1::Label& l : ref.key.labels()) {
        if (l.name() != "host") continue;
        auto found = labels->find(l.value());
        if (found != labels->end()) host = &found->second;
      }
      absl::Status s =
          store_->ScanPoints(Level::kRaw, ref.id, cursor, std::numeric_limits<int64_t>::max(),
                             [&](int64_t start, int64_t window_ns, const v1::Value& value) {
                               v1::Point p;
                               *p.mutable_series() = ref.key;
                               p.set_window_start_ns(start);
                               p.set_window_ns(window_ns);
                               *p.mutable_value() = value;
                               reducer_->Add(p, host);
                               ++recovered;
                               return true;
                             });
      if (!s.ok()) return s;
    }
  }
  // Late points kept but not yet folded into a batch go up again, except
  // those of windows the cursor has not passed (just rebuilt from the store,
  // which holds them: a crash between the reducer's and the outbox's cursor).
  absl::StatusOr<std::vector<v1::IngestBatch>> late = outbox_->LateRecords();
  if (!late.ok()) return late.status();
  uint64_t replayed = 0;
  for (const v1::IngestBatch& record : *late) {
    for (const v1::Point& p : record.points()) {
      if (p.window_start_ns() >= cursor) continue;
      reducer_->Add(p, record.has_host_labels() ? &record.host_labels() : nullptr);
      ++replayed;
    }
  }
  ANDON_LOG(INFO) << "forwarder: " << outbox_->size() << " batches wait in the outbox; "
                  << recovered << " stored points of windows not yet closed rebuilt (cursor "
                  << absl::FormatTime(absl::FromUnixNanos(cursor)) << "); " << replayed
                  << " late points kept at the crash go up again";
  return absl::OkStatus();
}

void Forwarder::Start() {
  stop_.Reset();
  thread_ = std::thread([this] { Run(); });
}

void Forwarder::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

void Forwarder::SetParent(const v1::AggregatorRef& parent) {
  absl::MutexLock lock(&mu_);
  if (parent.address() != parent_address_) {
    ANDON_LOG(INFO) << "forwarder: parent " << (parent.id().empty() ? "(none)" : parent.id())
                    << " at " << (parent.address().empty() ? "(unknown)" : parent.address());
  }
  parent_address_ = parent.address();
}

absl::Status Forwarder::SetRules(const std::vector<v1::ForwardRule>& rules) {
  v1::ListAggregatorsResponse holder;
  for (const v1::ForwardRule& r : rules) *holder.add_forward_rules() = r;
  std::string text = holder.SerializeAsString();
  {
    absl::MutexLock lock(&mu_);
    if (text == rules_text_) return absl::OkStatus();
    rules_text_ = text;
  }
  if (absl::Status s = outbox_->PutRules(rules); !s.ok()) return s;
  reducer_->SetRules(ForwardRules(rules));
  ANDON_LOG(INFO) << "forwarder: " << rules.size() << " forwarding rules in force";
  return absl::OkStatus();
}

std::optional<v1::HostLabels> Forwarder::HostLabelsFor(const v1::IngestBatch& batch) {
  if (batch.sender_kind() != v1::AGENT) return std::nullopt;
  absl::MutexLock lock(&labels_mu_);
  if (batch.has_host_labels()) {
    v1::HostLabels& kept = host_labels_[batch.sender_id()];
    kept = batch.host_labels();
    return kept;
  }
  auto it = host_labels_.find(batch.sender_id());
  if (it == host_labels_.end()) return std::nullopt;
  return it->second;
}

void Forwarder::OnForgotten(const std::vector<std::string>& senders) {
  absl::MutexLock lock(&labels_mu_);
  for (const std::string& sender : senders) host_labels_.erase(sender);
}

void Forwarder::OnApplied(const v1::IngestBatch& batch) {
  const std::optional<v1::HostLabels> host = HostLabelsFor(batch);
  v1::IngestBatch late;  // the batch's late points, as their record
  // Shared with other batches; CloseDue takes it alone, so that every late
  // record it folds has its points in the reducer, and none after.
  absl::ReaderMutexLock folding(&late_mu_);
  for (const v1::Point& p : batch.points()) {
    switch (reducer_->Add(p, host ? &*host : nullptr)) {
      case WindowReducer::Added::kOpen:
        break;
      case WindowReducer::Added::kLate:
        *late.add_points() = p;
        metrics_.late_points.Increment();
        break;
      case WindowReducer::Added::kDropped:
        metrics_.dropped_points.Increment();
        break;
    }
  }
  metrics_.points_in.Increment(batch.points_size());
  // Fresh after every batch, not only at the tick: whoever waits for the
  // leaf to have forwarded everything sees this batch's points waiting.
  metrics_.pending_points.Set(static_cast<double>(reducer_->pending_points()));
  if (late.points_size() == 0) return;
  // Kept in the outbox now, so that a crash loses none of them; they go up
  // merged, with the windows of the next tick, as one amendment.
  late.set_sender_id(batch.sender_id());
  late.set_sender_kind(batch.sender_kind());
  if (host) *late.mutable_host_labels() = *host;
  if (absl::Status s = outbox_->AppendLate(late); !s.ok()) {
    ANDON_LOG(ERROR) << "forwarder: keeping late points: " << s.message();
  }
}

absl::Status Forwarder::CloseDue() {
  const int64_t cursor =
      absl::ToUnixNanos(clock_->Now() - options_.admission_delay - absl::Seconds(1));
  std::vector<v1::Point> points;
  int64_t moved_to = 0;  // 0: the cursor stays
  uint64_t late_through = 0;
  {
    absl::MutexLock folding(&late_mu_);
    late_through = outbox_->last_late();
    const bool due = cursor > reducer_->cursor();
    if (!due && late_through == 0) return absl::OkStatus();
    if (due) moved_to = cursor;
    // The windows due and every late amendment (a cursor of 0 takes only those).
    points = reducer_->Close(moved_to);
  }
  absl::Status s = Queue(std::move(points), moved_to, late_through);
  metrics_.pending_points.Set(static_cast<double>(reducer_->pending_points()));
  return s;
}

absl::Status Forwarder::Queue(std::vector<v1::Point> points, int64_t cursor,
                              uint64_t late_through) {
  if (points.empty() && cursor == 0 && late_through == 0) return absl::OkStatus();
  std::vector<v1::IngestBatch> batches;
  // Metric -> the label names its points in the batch carry.
  std::map<std::string, std::set<std::string>> metrics_of_batch;
  auto finish_batch = [&] {
    v1::IngestBatch& b = batches.back();
    for (const auto& [m, names] : metrics_of_batch) {
      absl::StatusOr<v1::MetricInfo> info = catalog_->Lookup(m);
      if (!info.ok()) continue;
      // Labels a rule took from the hosts are declared with the batch, so
      // that the parent accepts them without knowing the rules.
      for (const std::string& name : names) {
        if (std::find(info->labels().begin(), info->labels().end(), name) == info->labels().end()) {
          info->add_host_labels(name);
        }
      }
      *b.add_metrics() = *std::move(info);
    }
    metrics_of_batch.clear();
  };
  for (v1::Point& p : points) {
    if (batches.empty() ||
        batches.back().points_size() >= static_cast<int>(options_.max_points_per_batch)) {
      if (!batches.empty()) finish_batch();
      batches.emplace_back();
      batches.back().set_sender_id(options_.id);
      batches.back().set_sender_kind(v1::AGGREGATOR);
    }
    std::set<std::string>& names = metrics_of_batch[p.series().metric()];
    for (const v1::Label& l : p.series().labels()) names.insert(l.name());
    *batches.back().add_points() = std::move(p);
  }
  if (!batches.empty()) finish_batch();
  const size_t n = points.size();
  const uint64_t dropped_before = outbox_->dropped();
  absl::Status s = outbox_->Append(std::move(batches), cursor, late_through);
  if (!s.ok()) return s;
  metrics_.points_out.Increment(static_cast<double>(n));
  if (uint64_t d = outbox_->dropped() - dropped_before; d > 0) {
    metrics_.batches_dropped.Increment(static_cast<double>(d));
    ANDON_LOG(WARNING) << "forwarder: outbox full; dropped the " << d
                       << " oldest batches the parent had not acknowledged";
  }
  metrics_.outbox_batches.Set(static_cast<double>(outbox_->size()));
  return absl::OkStatus();
}

v1::Ingest::Stub* Forwarder::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  if (stub_ == nullptr || stub_address_ != address) {
    stub_ = v1::Ingest::NewStub(NewChannel(address));
    stub_address_ = address;
  }
  return stub_.get();
}

absl::Status Forwarder::SendOnce(const std::string& address) {
  absl::StatusOr<std::vector<v1::IngestBatch>> batches =
      outbox_->Oldest(options_.max_batches_per_stream);
  if (!batches.ok()) return batches.status();
  if (batches->empty()) return absl::OkStatus();
  v1::Ingest::Stub* stub = StubFor(address);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  v1::IngestAck ack;
  grpc::Status status;
  {
    StopSignal::Tracked tracked(stop_, &context);
    std::unique_ptr<grpc::ClientWriter<v1::IngestBatch>> writer = stub->Push(&context, &ack);
    for (const v1::IngestBatch& b : *batches) {
      if (!writer->Write(b)) break;
    }
    writer->WritesDone();
    status = writer->Finish();
  }
  if (status.ok()) {
    const uint64_t before = outbox_->size();
    absl::Status s = outbox_->Acknowledge(ack.last_sequence());
    metrics_.batches_acked.Increment(static_cast<double>(before - outbox_->size()));
    metrics_.outbox_batches.Set(static_cast<double>(outbox_->size()));
    return s;
  }
  metrics_.send_errors.Increment();
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    // The parent will never take the first batch it has not applied: give
    // up the oldest (already applied ones are harmless to drop) so that the
    // rest is not held behind it.
    ANDON_LOG(ERROR) << "forwarder: parent refused batch " << batches->front().sequence()
                     << " or a later one: " << status.error_message()
                     << "; dropping the oldest batch";
    metrics_.batches_dropped.Increment();
    if (absl::Status s = outbox_->Acknowledge(batches->front().sequence()); !s.ok()) return s;
  }
  return FromGrpcStatus(status);
}

void Forwarder::Run() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool reachable = true;
  while (!stop_.stopping()) {
    if (absl::Status s = CloseDue(); !s.ok()) {
      ANDON_LOG(ERROR) << "forwarder: closing windows: " << s.message();
    }
    std::string address;
    {
      absl::MutexLock lock(&mu_);
      address = parent_address_;
    }
    absl::Duration wait = options_.tick;
    if (!address.empty() && outbox_->size() > 0) {
      const size_t before = outbox_->size();
      absl::Status s = SendOnce(address);
      if (s.ok()) {
        if (!reachable) ANDON_LOG(INFO) << "forwarder: parent at " << address << " reachable again";
        reachable = true;
        backoff.Reset();
        const size_t after = outbox_->size();
        if (after > 0 && after < before) continue;  // more waiting: send on at once
      } else if (!stop_.stopping()) {
        wait = backoff.Next();
        if (reachable) {
          ANDON_LOG(WARNING) << "forwarder: sending to parent at " << address << ": " << s.message()
                             << "; retrying (outbox " << outbox_->size() << " batches), next in "
                             << absl::StrFormat("%.1fs", absl::ToDoubleSeconds(wait));
        }
        reachable = false;
      }
    }
    if (!stop_.SleepFor(wait)) return;
  }
}

}  // namespace andon::aggregator
