#include "controller/agent_control_service.h"

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/probe_spec.h"
#include "common/status_macros.h"
#include "controller/control_stream.h"

namespace andon::controller {
namespace {

// The host's labels in a canonical order, as a cache key.
std::string LabelsKey(const google::protobuf::Map<std::string, std::string>& labels) {
  std::vector<std::pair<std::string, std::string>> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end());
  std::string key;
  for (const auto& [k, v] : sorted) absl::StrAppend(&key, k, "=", v, "\n");
  return key;
}

std::shared_ptr<const v1::ControlMessage> HostLabelsMessage(
    const google::protobuf::Map<std::string, std::string>& labels) {
  auto message = std::make_shared<v1::ControlMessage>();
  *message->mutable_host_labels()->mutable_labels() = labels;
  return message;
}

}  // namespace

grpc::ServerUnaryReactor* AgentControlService::Register(grpc::CallbackServerContext* context,
                                                        const v1::RegisterRequest* request,
                                                        v1::RegisterResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ANDON_ASSIGN_OR_RETURN(v1::Host host,
                           registry_->RegisterHost(request->host(), request->instance_id()));
    ANDON_ASSIGN_OR_RETURN(v1::AggregatorRef aggregator,
                           registry_->AssignHost(host.info().host_id()));
    response->set_host_id(host.info().host_id());
    *response->mutable_aggregator() = std::move(aggregator);
    response->set_heartbeat_interval_ms(
        static_cast<uint32_t>(absl::ToInt64Milliseconds(registry_->HeartbeatInterval())));
    *response->mutable_probes() = probes_->ForHost(host.info().host_id(), host.info().labels()).set;
    *response->mutable_host_labels()->mutable_labels() = host.info().labels();
    return absl::OkStatus();
  }();
  metrics_->CountRegister(status);
  if (!status.ok()) {
    ANDON_LOG(INFO) << "Register of host '" << request->host().host_id() << "' (instance "
                    << request->instance_id() << ") refused: " << status;
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

void AgentControlService::StartQueues() {
  queues_.Start([this](grpc::ServerCompletionQueue* queue) {
    // A few calls requested ahead on each queue: agents connecting at once
    // do not wait for the queue's thread to ask for each one.
    for (int i = 0; i < 4; ++i) ControlStream::Request(this, queue);
  });
}

absl::Status AgentControlService::Attach(const std::string& host_id, const std::string& instance_id,
                                         const std::string& aggregator_id, ControlStream* stream) {
  absl::MutexLock lock(&mu_);
  absl::Status connected = registry_->SetConnected(host_id, instance_id, true);
  if (!connected.ok()) return connected;
  stream->assigned_aggregator_id = aggregator_id;
  // What its Register answer said, near enough: the next push corrects it.
  stream->heartbeat_interval = registry_->HeartbeatInterval();
  streams_[host_id] = stream->shared_from_this();  // an older one ends on its own
  // Placed at Register, perhaps by an older map: the next walk checks.
  placement_dirty_ = true;
  metrics_->StreamOpened();
  // Every new stream starts with the host's labels (they may have changed
  // since its Register answer) and its whole probe set: the agent compares
  // that with what it runs and changes only the difference.
  auto labels = registry_->LabelsOf(host_id);
  if (!labels) return absl::OkStatus();
  stream->labels_key = LabelsKey(*labels);
  stream->Push(HostLabelsMessage(*labels));
  PushProbes(host_id, stream, probes_->ForHost(host_id, *labels), /*force=*/true);
  return absl::OkStatus();
}

namespace {

// Of a probe set's content (not its version).
uint64_t SetFingerprint(const HostProbes& probes) {
  std::string content;
  for (const v1::ProbeInstance& p : probes.set.probes()) content += p.SerializeAsString();
  return Fnv1a(kFnv1aOffset, content);
}

std::shared_ptr<const v1::ControlMessage> ProbesMessage(const HostProbes& probes) {
  auto message = std::make_shared<v1::ControlMessage>();
  *message->mutable_probes() = probes.set;
  return message;
}

}  // namespace

bool AgentControlService::ProbesDue(ControlStream* stream, const HostProbes& probes,
                                    uint64_t fingerprint, bool force) {
  if (!force && fingerprint == stream->probes_fingerprint) return false;
  stream->probes_fingerprint = fingerprint;
  stream->probes_version = probes.set.version();
  return true;
}

void AgentControlService::PushProbes(const std::string& host_id, ControlStream* stream,
                                     const HostProbes& probes, bool force) {
  if (ProbesDue(stream, probes, SetFingerprint(probes), force)) {
    stream->Push(ProbesMessage(probes));
  }
  applied_.Pushed(host_id, probes, stream->probes_version);
}

void AgentControlService::PushProbeChanges() {
  // One walk at a time (the pusher's and a label change's): a walk writes
  // after releasing mu_, and a newer set must not be overtaken by an older.
  absl::MutexLock walking(&walk_mu_);
  // Read first: a change during the walk is not counted as walked.
  const uint64_t configs_version = probes_->version();
  const absl::Time start = absl::Now();
  // Hosts with the same labels share one set unless a selector names hosts.
  const bool by_labels = probes_->SelectsByLabelsOnly();
  struct Computed {
    HostProbes probes;
    uint64_t fingerprint = 0;
    // The set as a message, made for the first host it is sent to and
    // written to every other (gRPC serializes it per stream).
    std::shared_ptr<const v1::ControlMessage> message;
  };
  absl::node_hash_map<std::string, Computed> by_label_set;  // nodes stay put
  // Every connected host's labels, as a canonical key, in one pass under the
  // registry's lock, not one lock per host: the walk's own pushes make
  // 10,000 agents answer at once, and each answer takes that lock. The
  // labels themselves are kept once per distinct key.
  struct Labels {
    std::string key;
    const google::protobuf::Map<std::string, std::string>* labels = nullptr;
  };
  absl::flat_hash_map<std::string, Labels> labels_of;
  absl::node_hash_map<std::string, google::protobuf::Map<std::string, std::string>> distinct;
  registry_->VisitHosts([&](const v1::Host& host, v1::HostState) {
    if (!host.connected()) return;
    Labels& l = labels_of[host.info().host_id()];
    l.key = LabelsKey(host.info().labels());
    auto [it, inserted] = distinct.try_emplace(l.key);
    if (inserted) it->second = host.info().labels();
    l.labels = &it->second;
  });
  // Host -> what it was sent, for the tracker in one batch (nodes of
  // by_label_set and of `own` stay put until the walk ends).
  std::vector<ApplyTracker::PushedHost> sent;
  std::deque<Computed> own;
  // Sets to send, written after mu_ is released.
  std::vector<std::pair<std::shared_ptr<ControlStream>, const Computed*>> outgoing;
  // Hosts whose labels changed since they were last sent, with the message
  // for each distinct label set (a label change walks too).
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::ControlMessage>> labels_messages;
  std::vector<std::pair<std::shared_ptr<ControlStream>, std::shared_ptr<const v1::ControlMessage>>>
      outgoing_labels;
  size_t streams = 0;
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    streams = streams_.size();
    sent.reserve(streams_.size());
    for (auto& [host_id, stream] : streams_) {
      auto labels = labels_of.find(host_id);
      if (labels == labels_of.end()) continue;
      if (labels->second.key != stream->labels_key) {
        stream->labels_key = labels->second.key;
        auto& message = labels_messages[labels->second.key];
        if (message == nullptr) message = HostLabelsMessage(*labels->second.labels);
        outgoing_labels.emplace_back(stream, message);
      }
      Computed* computed = nullptr;
      bool fresh = true;
      if (by_labels) {
        auto [it, inserted] = by_label_set.try_emplace(labels->second.key);
        computed = &it->second;
        fresh = inserted;
      } else {
        computed = &own.emplace_back();
      }
      if (fresh) {
        computed->probes = probes_->ForHost(host_id, *labels->second.labels);
        computed->fingerprint = SetFingerprint(computed->probes);
      }
      if (ProbesDue(stream.get(), computed->probes, computed->fingerprint, /*force=*/false)) {
        version = stream->probes_version;
        if (computed->message == nullptr) computed->message = ProbesMessage(computed->probes);
        outgoing.emplace_back(stream, computed);
      }
      // Which configurations pick the host may change without its set changing.
      sent.push_back({&host_id, &computed->probes, stream->probes_version});
    }
    applied_.PushedAll(sent);
    applied_.Synced(configs_version);
  }
  const absl::Time computed = absl::Now();
  // Written outside mu_ (streams may attach and detach meanwhile) by two
  // threads: a write costs tens of microseconds in gRPC, 10,000 of them
  // most of a second on one thread.
  auto send = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      outgoing[i].first->Push(outgoing[i].second->message);
      outgoing[i].first.reset();
    }
  };
  if (outgoing.size() < 256) {
    send(0, outgoing.size());
  } else {
    const size_t half = outgoing.size() / 2;
    std::thread other(send, half, outgoing.size());
    send(0, half);
    other.join();
  }
  for (auto& [stream, message] : outgoing_labels) stream->Push(std::move(message));
  if (!outgoing_labels.empty()) {
    ANDON_LOG(INFO) << "host labels changed: sent to " << outgoing_labels.size() << " hosts";
  }
  const size_t pushed = outgoing.size();
  if (pushed > 0) metrics_->CountProbePush(pushed, absl::Now() - start);
  if (pushed > 0) {
    ANDON_LOG(INFO) << "probe configurations changed: pushed version " << version << " to "
                    << pushed << " of " << streams << " connected hosts in "
                    << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1)))
                    << " (the sets computed in "
                    << absl::FormatDuration(absl::Trunc(computed - start, absl::Milliseconds(1)))
                    << ")"
                    << (by_labels ? absl::StrCat(" (", by_label_set.size(), " distinct label sets)")
                                  : std::string());
  }
}

uint32_t AgentControlService::SendTail(const v1::TargetSelector& target,
                                       const v1::EventTailRequest& tail) {
  absl::MutexLock lock(&mu_);
  uint32_t sent = 0;
  auto message = std::make_shared<v1::ControlMessage>();
  *message->mutable_tail() = tail;
  for (auto& [host_id, stream] : streams_) {
    absl::StatusOr<v1::Host> host = registry_->GetHost(host_id);
    if (!host.ok() || !SelectorMatches(target, host_id, host->info().labels())) continue;
    stream->Push(message);
    ++sent;
  }
  return sent;
}

void AgentControlService::Detach(const std::string& host_id, const std::string& instance_id,
                                 ControlStream* stream) {
  absl::MutexLock lock(&mu_);
  metrics_->StreamClosed();
  auto it = streams_.find(host_id);
  if (it == streams_.end() || it->second.get() != stream) return;
  streams_.erase(it);
  applied_.Forget(host_id);
  absl::Status s = registry_->SetConnected(host_id, instance_id, false);
  if (!s.ok()) ANDON_LOG(WARNING) << "cannot mark host '" << host_id << "' disconnected: " << s;
}

size_t AgentControlService::PushHeartbeatInterval() {
  const absl::Duration target = registry_->HeartbeatInterval();
  const uint32_t ms = static_cast<uint32_t>(absl::ToInt64Milliseconds(target));
  size_t told = 0;
  absl::MutexLock lock(&mu_);
  // New streams start with the interval of their time: a walk is needed
  // only when the interval moved.
  if (target == interval_walked_) return 0;
  interval_walked_ = target;
  for (auto& [host_id, stream] : streams_) {
    // Only a factor of two off: a growing fleet retells each agent a few
    // times, not at every new host.
    if (stream->heartbeat_interval * 2 > target && stream->heartbeat_interval < target * 2) {
      continue;
    }
    stream->heartbeat_interval = target;
    v1::ControlMessage message;
    message.set_heartbeat_interval_ms(ms);
    stream->Push(std::move(message));
    ++told;
  }
  if (told > 0) {
    ANDON_LOG(INFO) << "told " << told << " agents to heartbeat every "
                    << absl::FormatDuration(target);
  }
  return told;
}

size_t AgentControlService::OpenStreams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

size_t AgentControlService::PushAssignmentChanges(size_t max_moves) {
  const std::vector<std::string> restarted = registry_->TakeRestartedAggregators();
  ShardMap shards = registry_->LiveShardMap();
  if (shards.empty()) return 0;
  struct Change {
    std::string host_id;
    v1::AggregatorRef aggregator;
    std::shared_ptr<ControlStream> stream;
  };
  std::vector<Change> changes;
  // Hosts of a leaf that restarted, told their assignment again: the agent
  // takes it as news that the leaf is up and cuts its ingest backoff short
  // (a leaf back within seconds is otherwise reached only after backoffs
  // grown to 10-30 s by its downtime).
  std::vector<std::pair<std::shared_ptr<ControlStream>, std::shared_ptr<const v1::ControlMessage>>>
      reconnects;
  if (!restarted.empty()) {
    absl::flat_hash_map<std::string, std::shared_ptr<const v1::ControlMessage>> messages;
    for (const std::string& id : restarted) {
      for (const v1::AggregatorRef& ref : shards.aggregators()) {
        if (ref.id() != id) continue;
        auto message = std::make_shared<v1::ControlMessage>();
        *message->mutable_assignment() = ref;
        messages[id] = std::move(message);
      }
    }
    absl::MutexLock lock(&mu_);
    for (auto& [host_id, stream] : streams_) {
      auto m = messages.find(stream->assigned_aggregator_id);
      if (m != messages.end()) reconnects.emplace_back(stream, m->second);
    }
  }
  for (auto& [stream, message] : reconnects) stream->Push(message);
  if (!reconnects.empty()) {
    ANDON_LOG(INFO) << "told " << reconnects.size()
                    << " hosts to reconnect to their restarted aggregator";
  }
  reconnects.clear();
  {
    absl::MutexLock lock(&mu_);
    if (shards.fingerprint() == placed_by_ && !placement_dirty_) return 0;
    placed_by_ = shards.fingerprint();
    placement_dirty_ = false;
    for (auto& [host_id, stream] : streams_) {
      const v1::AggregatorRef* ref = shards.Lookup(host_id);
      if (ref->id() == stream->assigned_aggregator_id) continue;
      if (changes.size() >= max_moves) {  // the rest at the next call
        placement_dirty_ = true;
        break;
      }
      stream->assigned_aggregator_id = ref->id();
      changes.push_back({host_id, *ref, stream});
    }
  }
  // Outside mu_: writes may complete inline, and the registry has its own lock.
  for (Change& c : changes) {
    ANDON_LOG(INFO) << "host '" << c.host_id << "' moves to aggregator '" << c.aggregator.id()
                    << "' at " << c.aggregator.address();
    absl::Status s = registry_->SetAssignment(c.host_id, c.aggregator.id());
    if (!s.ok()) ANDON_LOG(WARNING) << "cannot record assignment: " << s;
    v1::ControlMessage message;
    *message.mutable_assignment() = c.aggregator;
    c.stream->Push(std::move(message));
    c.stream.reset();
  }
  return changes.size();
}

}  // namespace andon::controller
