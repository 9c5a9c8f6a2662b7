#include "bench/fleet_sim/sim_agent.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/fleet_sim/sim_streams.h"
#include "common/grpc_channel.h"
#include "common/proto_time.h"

namespace andon::bench {
namespace {

void AddLabel(v1::SeriesKey* key, const std::string& name, const std::string& value) {
  v1::Label* l = key->add_labels();
  l->set_name(name);
  l->set_value(value);
}

// A point of `metric` with labels {host} plus `labels` (sorted by name, as
// series keys are).
v1::Point* AddPoint(v1::IngestBatch& batch, const std::string& metric, const std::string& host,
                    std::vector<std::pair<std::string, std::string>> labels, int64_t window_ns) {
  v1::Point* p = batch.add_points();
  p->mutable_series()->set_metric(metric);
  labels.emplace_back("host", host);
  std::sort(labels.begin(), labels.end());
  for (const auto& [n, v] : labels) AddLabel(p->mutable_series(), n, v);
  p->set_window_start_ns(window_ns);
  p->set_window_ns(1000000000);
  return p;
}

void SetGauge(v1::Point* p, double v, int64_t at_ns) {
  v1::Gauge* g = p->mutable_value()->mutable_gauge();
  g->set_min(v);
  g->set_max(v);
  g->set_sum(v);
  g->set_count(1);
  g->set_last(v);
  g->set_last_time_ns(at_ns);
}

}  // namespace

SimAgent::SimAgent(SimAgentOptions options, SimEventSink* events)
    : options_(std::move(options)),
      events_(events),
      host_id_(absl::StrFormat("sim-%05d", options_.index)),
      instance_id_(absl::StrFormat("5150%028x", options_.index + 1)),
      control_channel_(NewChannel(options_.controller,
                                  {.connection_key = absl::StrCat("control-", options_.index)})),
      control_stub_(v1::AgentControl::NewStub(control_channel_)),
      backoff_(options_.backoff_initial, options_.backoff_max),
      ingest_backoff_(absl::Milliseconds(500), absl::Seconds(30)) {}

SimAgent::~SimAgent() = default;

v1::RegisterRequest SimAgent::Hello() const {
  v1::RegisterRequest req;
  req.set_instance_id(instance_id_);
  v1::HostInfo* h = req.mutable_host();
  h->set_host_id(host_id_);
  h->set_hostname(host_id_);
  h->set_kernel_release("6.1.0-sim-amd64");
  h->set_num_cpus(16);
  h->set_agent_version("fleet-sim");
  (*h->mutable_labels())["role"] = options_.index % 5 == 0 ? "db" : "web";
  (*h->mutable_labels())["rack"] = absl::StrCat("r", options_.index % 40);
  (*h->mutable_labels())["zone"] = absl::StrCat("z", options_.index % 3);
  for (const char* c : {"tracepoint", "raw_tracepoint", "kprobe", "uprobe", "usdt", "perf_event"}) {
    h->add_capabilities(c);
  }
  return req;
}

void SimAgent::SetProbes(const v1::ProbeSet& probes) {
  probes_version_ = probes.version();
  probe_keys_.resize(static_cast<size_t>(probes.probes_size()));
  for (int i = 0; i < probes.probes_size(); ++i) probe_keys_[i] = probes.probes(i).key();
}

v1::Heartbeat SimAgent::MakeHeartbeat() const {
  v1::Heartbeat hb;
  *hb.mutable_time() = ToProtoTime(absl::Now());
  hb.set_applied_config_version(probes_version_);
  for (const std::string& key : probe_keys_) {
    v1::ProbeState* s = hb.add_probes();
    s->set_key(key);
    s->set_state(v1::ProbeState::ATTACHED);
    s->set_attach_point("raw_tracepoint:sys_enter");
    s->set_events(sequence_ * 1000);
  }
  v1::AgentStats* stats = hb.mutable_stats();
  stats->set_batches_sent(sequence_);
  stats->set_points_sent(sequence_ * 15);
  stats->set_cpu_seconds(0.01 * static_cast<double>(sequence_));
  stats->set_resident_bytes(40 << 20);
  return hb;
}

v1::IngestBatch SimAgent::MakeBatch(absl::Time now) {
  v1::IngestBatch b;
  b.set_sender_id(host_id_);
  b.set_sender_kind(v1::AGENT);
  b.set_sequence(++sequence_);
  const int64_t window = (absl::ToUnixSeconds(now) - 1) * 1000000000;
  const uint64_t k = sequence_ + static_cast<uint64_t>(options_.index);
  for (const char* mode : {"user", "system", "idle", "iowait"}) {
    AddPoint(b, "cpu_ms", host_id_, {{"mode", mode}}, window)
        ->mutable_value()
        ->set_counter(k % 900);
  }
  SetGauge(AddPoint(b, "load_average", host_id_, {{"period", "1m"}}, window), 1.5, window);
  for (const char* kind : {"used", "available"}) {
    SetGauge(AddPoint(b, "memory_bytes", host_id_, {{"kind", kind}}, window), 8e9, window);
  }
  for (const char* dir : {"rx", "tx"}) {
    AddPoint(b, "network_bytes", host_id_, {{"direction", dir}, {"interface", "eth0"}}, window)
        ->mutable_value()
        ->set_counter(1000 + k % 5000);
  }
  for (const char* comm : {"nginx", "postgres", "sshd"}) {
    for (const char* call : {"read", "write"}) {
      AddPoint(b, "syscalls", host_id_, {{"comm", comm}, {"syscall", call}}, window)
          ->mutable_value()
          ->set_counter(100 + k % 100);
    }
  }
  return b;
}

void SimAgent::Tick(absl::Time now) {
  bool do_register = false;
  std::shared_ptr<IngestStream> open_ingest;
  std::shared_ptr<v1::Ingest::Stub> ingest_stub;
  std::shared_ptr<ControlStream> heartbeat_on;
  v1::Heartbeat heartbeat;
  std::shared_ptr<IngestStream> batch_on;
  v1::IngestBatch batch;
  std::vector<v1::IngestBatch> resend;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (!registering_ && control_ == nullptr && now >= next_register_) {
      registering_ = true;
      ++calls_;
      do_register = true;
    }
    if (control_ != nullptr && control_->attached && now >= next_heartbeat_) {
      heartbeat = MakeHeartbeat();
      heartbeat_on = control_;
      next_heartbeat_ = now + heartbeat_interval_;
    }
    if (ingest_stub_ != nullptr && ingest_ == nullptr && now >= next_ingest_open_) {
      open_ingest = NewIngestLocked(now, &resend);
      ingest_stub = ingest_stub_;
    }
    if (ingest_ != nullptr && now >= next_batch_) {
      batch = MakeBatch(now);
      unacked_.push_back(batch);
      if (unacked_.size() > kMaxUnacked) {
        unacked_.pop_front();
        events_->Emit(SimEvent::kSpoolDropped, options_.index);
      }
      batch_on = ingest_;
      next_batch_ += options_.ingest_interval;
      if (next_batch_ < now) next_batch_ = now + options_.ingest_interval;
    }
    absl::Time wake = absl::InfiniteFuture();
    if (!registering_ && control_ == nullptr) wake = std::min(wake, next_register_);
    if (control_ != nullptr && control_->attached) wake = std::min(wake, next_heartbeat_);
    if (ingest_stub_ != nullptr && ingest_ == nullptr) wake = std::min(wake, next_ingest_open_);
    if (ingest_ != nullptr) wake = std::min(wake, next_batch_);
    wake_ns_.store(wake == absl::InfiniteFuture() ? INT64_MAX : absl::ToUnixNanos(wake),
                   std::memory_order_relaxed);
  }
  if (do_register) StartRegister();
  if (open_ingest) {
    open_ingest->Start(open_ingest, ingest_stub.get());
    for (v1::IngestBatch& b : resend) open_ingest->Send(std::move(b));
  }
  if (heartbeat_on) heartbeat_on->Send(heartbeat);
  if (batch_on) batch_on->Send(std::move(batch));
}

std::shared_ptr<IngestStream> SimAgent::NewIngestLocked(absl::Time now,
                                                        std::vector<v1::IngestBatch>* resend) {
  ingest_ = std::make_shared<IngestStream>(this);
  ++calls_;
  resend->assign(unacked_.begin(), unacked_.end());
  if (!resend->empty()) events_->Emit(SimEvent::kResent, options_.index, resend->size());
  // The first window closes within a second of the agent's start.
  if (sequence_ == 0) {
    next_batch_ = now + absl::Seconds(1) * (options_.index % 97) / 97;
  }
  return ingest_;
}

void SimAgent::StartRegister() {
  struct Call {
    grpc::ClientContext context;
    v1::RegisterRequest request;
    v1::RegisterResponse response;
  };
  auto call = std::make_shared<Call>();
  call->request = Hello();
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.register_timeout));
  call->context.set_wait_for_ready(true);  // as the real agent
  std::shared_ptr<grpc::ClientContext> context(call, &call->context);
  {
    absl::MutexLock lock(&mu_);
    register_context_ = context;
  }
  control_stub_->async()->Register(
      &call->context, &call->request, &call->response,
      [this, call](grpc::Status status) { OnRegisterDone(status, call->response); });
}

void SimAgent::OnRegisterDone(const grpc::Status& status, const v1::RegisterResponse& response) {
  std::shared_ptr<ControlStream> stream;
  {
    absl::MutexLock lock(&mu_);
    wake_ns_.store(0, std::memory_order_relaxed);
    registering_ = false;
    register_context_.reset();
    --calls_;
    if (stopping_) return;
    if (!status.ok()) {
      events_->Emit(SimEvent::kRegisterFailed, options_.index, status.error_code());
      next_register_ = absl::Now() + backoff_.Next();
      return;
    }
    events_->Emit(SimEvent::kRegistered, options_.index);
    backoff_.Reset();
    if (response.heartbeat_interval_ms() > 0) {
      heartbeat_interval_ = absl::Milliseconds(response.heartbeat_interval_ms());
    }
    SetProbes(response.probes());
    control_ = std::make_shared<ControlStream>(this);
    ++calls_;
    stream = control_;
    next_heartbeat_ = absl::Now() + heartbeat_interval_;
  }
  OnAssignment(response.aggregator());
  stream->Start(stream, control_stub_.get(), Hello());
}

void SimAgent::OnProbes(ControlStream* stream, const v1::ProbeSet& probes) {
  v1::Heartbeat ack;
  {
    absl::MutexLock lock(&mu_);
    wake_ns_.store(0, std::memory_order_relaxed);
    if (!stream->attached) {
      stream->attached = true;
      events_->Emit(SimEvent::kAttached, options_.index);
    }
    SetProbes(probes);
    ack = MakeHeartbeat();
    next_heartbeat_ = absl::Now() + heartbeat_interval_;
  }
  events_->Emit(SimEvent::kApplied, options_.index, probes.version());
  stream->Send(ack);
}

void SimAgent::OnAssignment(const v1::AggregatorRef& aggregator) {
  std::shared_ptr<IngestStream> old;
  std::shared_ptr<IngestStream> open;
  std::shared_ptr<v1::Ingest::Stub> stub;
  std::vector<v1::IngestBatch> resend;
  {
    absl::MutexLock lock(&mu_);
    wake_ns_.store(0, std::memory_order_relaxed);
    if (aggregator.address().empty()) return;
    if (aggregator.address() == leaf_address_) {
      // As the real agent: news that the leaf is up cuts a backoff short,
      // now or when the attempt in flight ends, and the channel tries to
      // connect again at once.
      next_ingest_open_ = absl::InfinitePast();
      retry_now_ = true;
      ingest_backoff_.Reset();
      if (ingest_channel_) grpc::experimental::ChannelResetConnectionBackoff(ingest_channel_.get());
      return;
    }
    leaf_address_ = aggregator.address();
    ingest_channel_ =
        NewChannel(leaf_address_, {.connection_key = absl::StrCat("ingest-", options_.index)});
    ingest_stub_ = v1::Ingest::NewStub(ingest_channel_);
    old = std::move(ingest_);
    next_ingest_open_ = absl::InfinitePast();
    // The stream to the new leaf opens at once, as the real agent's does,
    // not at the timer thread's next walk: one thread opening 2,500 streams
    // took seconds.
    if (!stopping_) {
      open = NewIngestLocked(absl::Now(), &resend);
      stub = ingest_stub_;
    }
  }
  if (old) old->Cancel();
  if (open) {
    open->Start(open, stub.get());
    for (v1::IngestBatch& b : resend) open->Send(std::move(b));
  }
}

void SimAgent::OnHeartbeatInterval(uint32_t ms) {
  absl::MutexLock lock(&mu_);
  wake_ns_.store(0, std::memory_order_relaxed);
  heartbeat_interval_ = absl::Milliseconds(ms);
}

void SimAgent::OnControlDone(ControlStream* stream) {
  absl::MutexLock lock(&mu_);
  wake_ns_.store(0, std::memory_order_relaxed);
  --calls_;
  if (control_.get() == stream) control_.reset();
  if (stopping_) return;
  events_->Emit(SimEvent::kControlLost, options_.index);
  // As the real agent: re-register after a (reset) backoff.
  next_register_ = absl::Now() + backoff_.Next();
}

void SimAgent::OnIngestAck(IngestStream* stream, uint64_t last_sequence) {
  absl::MutexLock lock(&mu_);
  ingest_backoff_.Reset();
  while (!unacked_.empty() && unacked_.front().sequence() <= last_sequence) unacked_.pop_front();
  if (marked_) {
    marked_ = false;
    events_->Emit(SimEvent::kStreaming, options_.index);
  }
}

void SimAgent::OnIngestDone(IngestStream* stream) {
  absl::MutexLock lock(&mu_);
  wake_ns_.store(0, std::memory_order_relaxed);
  --calls_;
  if (ingest_.get() == stream) {
    ingest_.reset();
    next_ingest_open_ = retry_now_ ? absl::Now() : absl::Now() + ingest_backoff_.Next();
    retry_now_ = false;
  }
  if (!stopping_) events_->Emit(SimEvent::kIngestLost, options_.index);
}

void SimAgent::Mark() {
  absl::MutexLock lock(&mu_);
  marked_ = true;
}

void SimAgent::Stop() {
  std::shared_ptr<grpc::ClientContext> registering;
  std::shared_ptr<ControlStream> control;
  std::shared_ptr<IngestStream> ingest;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    registering = register_context_;
    control = control_;
    ingest = ingest_;
  }
  if (registering) registering->TryCancel();
  if (control) control->Cancel();
  if (ingest) ingest->Cancel();
}

bool SimAgent::Quiet() const {
  absl::MutexLock lock(&mu_);
  return calls_ == 0;
}

}  // namespace andon::bench
