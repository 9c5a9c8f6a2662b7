#include "agent/controller_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "agent/retry_delay.h"
#include "common/backoff.h"
#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "google/protobuf/util/time_util.h"

namespace andon::agent {
namespace {

std::string RandomInstanceId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

bool IsFatal(const absl::Status& s) {
  return absl::IsAlreadyExists(s) || absl::IsInvalidArgument(s);
}

}  // namespace

ControllerClient::ControllerClient(ControllerClientOptions options, ControllerCallbacks callbacks,
                                   AgentMetrics& metrics, Clock* clock)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      metrics_(metrics),
      clock_(clock),
      instance_id_(RandomInstanceId()) {
  *request_.mutable_host() = options_.host;
  request_.set_instance_id(instance_id_);
}

ControllerClient::~ControllerClient() { Stop(); }

void ControllerClient::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void ControllerClient::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

bool ControllerClient::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

int64_t ControllerClient::failed_registrations() const {
  absl::MutexLock lock(&mu_);
  return failed_registrations_;
}

bool ControllerClient::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

void ControllerClient::Run() {
  RunLoop();
  absl::MutexLock lock(&mu_);
  finished_ = true;
}

void ControllerClient::RunLoop() {
  auto stub = v1::AgentControl::NewStub(NewChannel(options_.address));
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  while (true) {
    absl::StatusOr<v1::RegisterResponse> resp = RegisterOnce(*stub);
    if (stop_.stopping()) return;
    if (!resp.ok()) {
      {
        absl::MutexLock lock(&mu_);
        ++failed_registrations_;
      }
      if (IsFatal(resp.status())) {
        ANDON_LOG(ERROR) << "controller " << options_.address
                         << " refused this agent: " << resp.status().message();
        if (callbacks_.on_fatal) callbacks_.on_fatal(resp.status());
        return;
      }
      absl::Duration delay = backoff.Next();
      ANDON_LOG(WARNING) << "controller " << options_.address << " unreachable ("
                         << resp.status().message() << "); retrying in " << RetryDelayText(delay);
      if (!stop_.SleepFor(delay)) return;
      continue;
    }
    backoff.Reset();
    ANDON_LOG(INFO) << "registered with controller " << options_.address << " as host '"
                    << options_.host.host_id() << "' (instance " << instance_id_ << ")";
    if (!resp->aggregator().address().empty() && callbacks_.on_assignment) {
      callbacks_.on_assignment(resp->aggregator());
    }
    if (resp->has_probes() && callbacks_.on_probes) callbacks_.on_probes(resp->probes());
    if (resp->has_host_labels() && callbacks_.on_host_labels) {
      callbacks_.on_host_labels(resp->host_labels());
    }
    {
      absl::MutexLock lock(&mu_);
      heartbeat_ = resp->heartbeat_interval_ms() > 0
                       ? absl::Milliseconds(resp->heartbeat_interval_ms())
                       : options_.default_heartbeat;
    }
    absl::Status ended = RunControlStream(*stub);
    if (stop_.stopping()) return;
    metrics_.control_reconnects.Increment();
    absl::Duration delay = backoff.Next();
    ANDON_LOG(WARNING) << "control stream to controller " << options_.address << " ended ("
                       << ended.message() << "); re-registering in " << RetryDelayText(delay);
    if (!stop_.SleepFor(delay)) return;
  }
}

absl::StatusOr<v1::RegisterResponse> ControllerClient::RegisterOnce(v1::AgentControl::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.register_timeout));
  ctx.set_wait_for_ready(true);
  v1::RegisterResponse resp;
  grpc::Status status;
  {
    StopSignal::Tracked tracked(stop_, &ctx);
    status = stub.Register(&ctx, request_, &resp);
  }
  if (!status.ok()) return FromGrpcStatus(status);
  return resp;
}

absl::Status ControllerClient::RunControlStream(v1::AgentControl::Stub& stub) {
  grpc::ClientContext ctx;
  StopSignal::Tracked tracked(stop_, &ctx);
  auto stream = stub.Control(&ctx);
  v1::AgentMessage hello;
  *hello.mutable_hello() = request_;
  if (!stream->Write(hello)) {
    grpc::Status status = stream->Finish();
    return status.ok() ? absl::UnavailableError("the controller closed the stream")
                       : FromGrpcStatus(status);
  }
  {
    absl::MutexLock lock(&mu_);
    connected_ = true;
    stream_ended_ = false;
  }
  // Reads run on their own thread because a sync stream's Read blocks; gRPC
  // allows one reader and one writer at a time.
  std::thread reader([&] {
    v1::ControlMessage msg;
    while (stream->Read(&msg)) Handle(msg);
    {
      absl::MutexLock lock(&mu_);
      stream_ended_ = true;
    }
    stop_.Wake();
  });
  bool ok = true;
  while (ok) {
    absl::Duration heartbeat;
    {
      absl::MutexLock lock(&mu_);
      heartbeat = heartbeat_;
    }
    // Cut short by ReportNow() and by the stream's end.
    if (!stop_.SleepFor(heartbeat)) break;
    {
      absl::MutexLock lock(&mu_);
      if (stream_ended_) break;
    }
    ok = stream->Write(MakeHeartbeat());
    if (ok && callbacks_.events) {
      if (std::optional<v1::EventBatch> batch = callbacks_.events()) {
        v1::AgentMessage msg;
        *msg.mutable_events() = std::move(*batch);
        ok = stream->Write(msg);
      }
    }
  }
  // Whatever ended the loop, make sure the reader wakes up.
  ctx.TryCancel();
  reader.join();
  grpc::Status status = stream->Finish();
  {
    absl::MutexLock lock(&mu_);
    connected_ = false;
  }
  if (status.ok()) return absl::UnavailableError("the controller closed the stream");
  return FromGrpcStatus(status);
}

void ControllerClient::Handle(const v1::ControlMessage& msg) {
  switch (msg.msg_case()) {
    case v1::ControlMessage::kAssignment:
      ANDON_LOG(INFO) << "controller assigned aggregator " << msg.assignment().id() << " at "
                      << msg.assignment().address();
      if (callbacks_.on_assignment) callbacks_.on_assignment(msg.assignment());
      break;
    case v1::ControlMessage::kProbes:
      ANDON_LOG(INFO) << "controller sent probe set version " << msg.probes().version() << " ("
                      << msg.probes().probes_size() << " probes)";
      if (callbacks_.on_probes) callbacks_.on_probes(msg.probes());
      break;
    case v1::ControlMessage::kHostLabels:
      ANDON_LOG(INFO) << "controller sent this host's labels (" << msg.host_labels().labels_size()
                      << ")";
      if (callbacks_.on_host_labels) callbacks_.on_host_labels(msg.host_labels());
      break;
    case v1::ControlMessage::kTail:
      if (callbacks_.on_tail) callbacks_.on_tail(msg.tail());
      break;
    case v1::ControlMessage::kHeartbeatIntervalMs: {
      ANDON_LOG(INFO) << "controller asks for a heartbeat every " << msg.heartbeat_interval_ms()
                      << " ms";
      absl::MutexLock lock(&mu_);
      if (msg.heartbeat_interval_ms() > 0) {
        heartbeat_ = absl::Milliseconds(msg.heartbeat_interval_ms());
      }
      break;
    }
    case v1::ControlMessage::MSG_NOT_SET:
      break;
  }
}

v1::AgentMessage ControllerClient::MakeHeartbeat() const {
  v1::AgentMessage msg;
  v1::Heartbeat* hb = msg.mutable_heartbeat();
  *hb->mutable_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_->Now()));
  if (callbacks_.probe_statuses) {
    for (v1::ProbeState& p : callbacks_.probe_statuses()) *hb->add_probes() = std::move(p);
  }
  if (callbacks_.applied_probe_version) {
    hb->set_applied_config_version(callbacks_.applied_probe_version());
  }
  if (callbacks_.agent_stats) *hb->mutable_stats() = callbacks_.agent_stats();
  return msg;
}

}  // namespace andon::agent
