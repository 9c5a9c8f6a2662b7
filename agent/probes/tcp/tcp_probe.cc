#include "agent/probes/tcp/tcp_probe.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/biolatency/bucket_distribution.h"
#include "agent/probes/biolatency/tracefs.h"
#include "agent/probes/tcp/tcp.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "tcp.skel.h"

namespace andon::agent {
namespace {

// fentry times connects from the call (production kernels have it; this
// one may not), else the state change to SYN_SENT starts the clock.
constexpr TcpAttachPoint kAttachPoints[] = {
    {"connect_v4_fentry", "fentry:tcp_v4_connect"},
    {nullptr, "tracepoint:sock:inet_sock_set_state"},
};
// Attached with every attach point.
constexpr const char* kCommonPrograms[] = {"state_change", "retransmit", "send_reset",
                                           "receive_reset"};

std::vector<TcpAttachPoint> AttachPointsOrDefault(const std::vector<TcpAttachPoint>& given) {
  if (!given.empty()) return given;
  return {std::begin(kAttachPoints), std::end(kAttachPoints)};
}

const char* CounterMetric(uint32_t kind) {
  switch (kind) {
    case TCP_KIND_CONNECT:
      return "tcp_connects";
    case TCP_KIND_ACCEPT:
      return "tcp_accepts";
    case TCP_KIND_RETRANSMIT:
      return "tcp_retransmits";
    case TCP_KIND_RESET:
      return "tcp_resets";
  }
  return nullptr;
}

const char* TcpStateName(uint16_t state) {
  static constexpr const char* kNames[] = {
      "",          "ESTABLISHED", "SYN_SENT",     "SYN_RECV",      "FIN_WAIT1",
      "FIN_WAIT2", "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",    "LAST_ACK",
      "LISTEN",    "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE"};
  return state < std::size(kNames) ? kNames[state] : "";
}

std::string Address(uint16_t family, const uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int af = family == AF_INET6 ? AF_INET6 : AF_INET;
  if (inet_ntop(af, addr, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

v1::SeriesKey Series(const char* metric, const std::string& comm) {
  v1::SeriesKey key;
  key.set_metric(metric);
  v1::Label* l = key.add_labels();
  l->set_name("comm");
  l->set_value(comm);
  return key;
}

void AddField(v1::Event& e, const char* name, std::string value) {
  v1::Label* f = e.add_fields();
  f->set_name(name);
  f->set_value(std::move(value));
}

int64_t MonotonicToUnixNs() {
  timespec mono = {}, real = {};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  return (real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

}  // namespace

void TcpProbe::SkelDeleter::operator()(tcp_bpf* skel) const { tcp_bpf__destroy(skel); }
void TcpProbe::RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }

TcpProbe::TcpProbe(TcpProbeOptions options)
    : Probe("tcp"),
      options_(options),
      attach_points_(AttachPointsOrDefault(options.attach_points)),
      recent_(options.recent_capacity) {}

TcpProbe::~TcpProbe() { Stop(); }

absl::Status TcpProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");
  // Every attach point needs the classic tracepoints.
  ANDON_RETURN_IF_ERROR(EnsureTracefsMounted());
  std::vector<std::string> errors;
  absl::StatusCode last_code = absl::StatusCode::kUnavailable;
  bool attached = false;
  for (const TcpAttachPoint& a : attach_points_) {
    absl::Status s = TryAttachPoint(a);
    if (s.ok()) {
      SetAttachPoint(a.description);
      ANDON_LOG(INFO) << "tcp probe attached to " << a.description;
      attached = true;
      break;
    }
    // Not a warning: fentry is missing on many kernels and that is expected.
    ANDON_LOG(INFO) << "tcp probe: " << s.message() << "; trying the next attach point";
    last_code = s.code();
    errors.push_back(std::string(s.message()));
  }
  if (!attached) {
    // The last (most widely supported) attach point's code: PERMISSION_DENIED
    // then means "not root" rather than "no fentry here".
    return absl::Status(last_code, absl::StrCat("no attach point of the tcp probe works: ",
                                                absl::StrJoin(errors, "; ")));
  }
  monotonic_to_unix_ns_ = MonotonicToUnixNs();
  reader_.emplace("tcp counts", bpf_map__fd(skel_->maps.counts), sizeof(tcp_counter_key), num_cpus_,
                  options_.idle_eviction);
  ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.events), &TcpProbe::OnEvent, this, nullptr));
  if (!ring_) return LibbpfStatus(errno, "opening the tcp event ring buffer");
  stopping_ = false;
  poller_ = std::thread([this] { PollLoop(); });
  return absl::OkStatus();
}

absl::Status TcpProbe::TryAttachPoint(const TcpAttachPoint& a) {
  links_.clear();
  skel_.reset(tcp_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the tcp BPF object");
  int err = bpf_map__set_max_entries(skel_->maps.counts, options_.max_keys);
  if (err) return LibbpfStatus(err, "sizing the counts map");
  err = bpf_map__set_max_entries(skel_->maps.events, options_.ring_bytes);
  if (err) return LibbpfStatus(err, "sizing the event ring buffer");
  std::vector<const char*> programs(std::begin(kCommonPrograms), std::end(kCommonPrograms));
  if (a.connect_program != nullptr) programs.push_back(a.connect_program);
  ANDON_RETURN_IF_ERROR(SelectPrograms(skel_->obj, programs, "tcp BPF"));
  err = tcp_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, absl::StrCat("loading ", a.description));
  ANDON_ASSIGN_OR_RETURN(links_, AttachPrograms(skel_->obj, programs, a.description));
  return absl::OkStatus();
}

void TcpProbe::StopImpl() {
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  ring_.reset();  // reads the skeleton's map, so it goes first
  reader_.reset();
  links_.clear();
  skel_.reset();
}

void TcpProbe::PollLoop() {
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.poll_interval));
  while (!stopping_) {
    int n = ring_buffer__poll(ring_.get(), timeout_ms);
    if (n < 0 && n != -EINTR) {
      absl::MutexLock lock(&mu_);
      poll_error_ = LibbpfStatus(n, "polling the tcp event ring buffer");
      return;
    }
  }
}

int TcpProbe::OnEvent(void* self, void* data, size_t size) {
  auto* probe = static_cast<TcpProbe*>(self);
  if (size < sizeof(tcp_probe_event)) return 0;  // cannot happen with a matching .bpf.o
  const auto* e = static_cast<const tcp_probe_event*>(data);
  v1::Event event;
  event.set_type(e->type == TCP_EVENT_RETRANSMIT ? "tcp_retransmit" : "tcp_reset");
  event.set_time_ns(static_cast<int64_t>(e->ts_ns) + probe->monotonic_to_unix_ns_);
  AddField(event, "comm", std::string(e->comm, strnlen(e->comm, sizeof(e->comm))));
  if (e->tgid != 0) AddField(event, "pid", absl::StrCat(e->tgid));
  if (e->type != TCP_EVENT_RETRANSMIT) {
    AddField(event, "direction", e->type == TCP_EVENT_RESET_SENT ? "sent" : "received");
  }
  AddField(event, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
  AddField(event, "saddr", Address(e->family, e->saddr));
  AddField(event, "sport", absl::StrCat(e->sport));
  AddField(event, "daddr", Address(e->family, e->daddr));
  AddField(event, "dport", absl::StrCat(e->dport));
  if (e->state != 0) AddField(event, "state", TcpStateName(e->state));
  probe->EmitEvent(event);
  absl::MutexLock lock(&probe->mu_);
  probe->recent_.Push(std::move(event));
  return 0;
}

absl::Status TcpProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  {
    absl::MutexLock lock(&mu_);
    if (!poll_error_.ok()) return poll_error_;
  }
  ANDON_ASSIGN_OR_RETURN(std::vector<KeyDelta> deltas, reader_->Read(sample_time));
  std::map<std::string, BucketCounts> latencies;
  for (const KeyDelta& d : deltas) {
    tcp_counter_key k;
    memcpy(&k, d.key.data(), sizeof(k));
    std::string comm(k.comm, strnlen(k.comm, sizeof(k.comm)));
    if (k.kind == TCP_KIND_CONNECT_LATENCY) {
      latencies[comm][static_cast<int32_t>(k.bucket)] += d.delta;
    } else if (const char* metric = CounterMetric(k.kind)) {
      acc.AddCounter(Series(metric, comm), d.delta, sample_time);
      AddEvents(d.delta);
    }
  }
  for (const auto& [comm, buckets] : latencies) {
    ANDON_RETURN_IF_ERROR(acc.AddValue(Series("tcp_connect_latency_ns", comm),
                                       BucketsToDistribution(buckets), sample_time));
  }
  SetDrops(ReadDrops());
  return absl::OkStatus();
}

uint64_t TcpProbe::ReadDrops() const {
  uint64_t total = 0;
  std::vector<__u64> values(num_cpus_);
  for (__u32 slot = 0; slot < 2; ++slot) {
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &slot, values.data()) != 0) continue;
    for (__u64 v : values) total += v;
  }
  return total;
}

std::vector<v1::Event> TcpProbe::RecentEvents() const {
  absl::MutexLock lock(&mu_);
  return recent_.Snapshot();
}

}  // namespace andon::agent
