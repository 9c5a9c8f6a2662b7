#include "aggregator/controller_registrar.h"

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "common/backoff.h"
#include "common/grpc_channel.h"
#include "common/log.h"

namespace andon::aggregator {
namespace {

constexpr absl::Duration kDefaultHeartbeat = absl::Milliseconds(2000);

// gRPC keeps its own reconnect backoff under ours; cap it at ours so the
// controller is found soon after it comes back.
std::shared_ptr<grpc::Channel> ControllerChannel(const RegistrarOptions& options) {
  return NewChannel(options.controller, {.initial_reconnect_backoff = options.initial_backoff,
                                         .max_reconnect_backoff = options.max_backoff,
                                         .keepalive = false});
}

}  // namespace

ControllerRegistrar::ControllerRegistrar(RegistrarOptions options)
    : options_(std::move(options)),
      instance_id_(absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()))),
      stub_(v1::Fleet::NewStub(ControllerChannel(options_))) {}

ControllerRegistrar::~ControllerRegistrar() { Stop(); }

void ControllerRegistrar::Start() {
  stop_.Reset();
  thread_ = std::thread([this] { Run(); });
}

void ControllerRegistrar::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

int64_t ControllerRegistrar::registrations() const {
  absl::MutexLock lock(&mu_);
  return registrations_;
}

int64_t ControllerRegistrar::failed_attempts() const {
  absl::MutexLock lock(&mu_);
  return failed_attempts_;
}

void ControllerRegistrar::Run() {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  bool reachable = false;
  while (true) {
    absl::Duration interval = kDefaultHeartbeat;
    grpc::Status status = RegisterOnce(&interval);
    absl::Duration wait = interval;
    if (status.ok()) {
      if (!reachable) {
        ANDON_LOG(INFO) << "registered with controller " << options_.controller << " as '"
                        << options_.id << "' (address " << options_.address << "); heartbeat every "
                        << absl::FormatDuration(interval);
      }
      reachable = true;
      backoff.Reset();
    } else {
      if (stop_.stopping()) return;  // Stop() cancelled the call.
      reachable = false;
      wait = backoff.Next();
      ANDON_LOG(WARNING) << "controller " << options_.controller << " unreachable ("
                         << status.error_message() << "); retrying in "
                         << absl::StrFormat("%.1fs", absl::ToDoubleSeconds(wait));
    }
    if (!stop_.SleepFor(wait)) return;
  }
}

grpc::Status ControllerRegistrar::RegisterOnce(absl::Duration* interval) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  v1::RegisterAggregatorRequest request;
  request.set_id(options_.id);
  request.set_address(options_.address);
  request.set_http_address(options_.http_address);
  request.set_parent_id(options_.parent_id);
  request.set_role(options_.role);
  request.set_weight(options_.weight);
  request.set_instance_id(instance_id_);
  v1::RegisterAggregatorResponse response;
  grpc::Status status;
  {
    StopSignal::Tracked tracked(stop_, &context);
    status = stub_->RegisterAggregator(&context, request, &response);
  }
  if (!status.ok()) {
    absl::MutexLock lock(&mu_);
    ++failed_attempts_;
    return status;
  }
  if (response.heartbeat_interval_ms() > 0) {
    *interval = absl::Milliseconds(response.heartbeat_interval_ms());
  }
  if (options_.on_registered) options_.on_registered(response);
  absl::MutexLock lock(&mu_);
  ++registrations_;
  return status;
}

}  // namespace andon::aggregator
