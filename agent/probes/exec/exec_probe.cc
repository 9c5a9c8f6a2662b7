#include "agent/probes/exec/exec_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/exec/exec.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "exec.skel.h"

namespace andon::agent {
namespace {

std::string CString(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

// Where the probe can hook process exec and exit, in order of preference; the
// first that attaches wins (Stirling-style attach points as data). Classic
// tracepoints need tracefs mounted, the others do not.
constexpr ExecAttachPoint kExecAttachPoints[] = {
    {"handle_exec_tp", "tracepoint:sched:sched_process_exec"},
    {"handle_exec_btf", "tp_btf:sched_process_exec"},
};
constexpr ExecAttachPoint kExitAttachPoints[] = {
    {"handle_exit_tp", "tracepoint:sched:sched_process_exit"},
    {"handle_exit_btf", "tp_btf:sched_process_exit"},
    {"handle_exit_raw", "raw_tracepoint:sched_process_exit"},
};

template <size_t N>
std::vector<ExecAttachPoint> OrDefault(const std::vector<ExecAttachPoint>& given,
                                       const ExecAttachPoint (&defaults)[N]) {
  if (!given.empty()) return given;
  return {std::begin(defaults), std::end(defaults)};
}

ExecEvent Decode(const exec_event& e, size_t size) {
  ExecEvent event;
  event.time = absl::Now();
  event.pid = e.pid;
  event.ppid = e.ppid;
  event.comm = CString(e.comm, sizeof(e.comm));
  if (e.type == EXEC_EVENT_EXEC) {
    event.type = ExecEvent::Type::kExec;
    if (size >= sizeof(exec_event)) event.filename = CString(e.filename, sizeof(e.filename));
  } else {
    event.type = ExecEvent::Type::kExit;
    event.exit_signal = static_cast<int>(e.exit_code & 0x7f);
    event.exit_code = event.exit_signal == 0 ? static_cast<int>((e.exit_code >> 8) & 0xff) : 0;
    event.lifetime = absl::Nanoseconds(static_cast<int64_t>(e.lifetime_ns));
  }
  return event;
}

}  // namespace

std::string ExitCodeLabel(uint32_t wait_status) {
  // The wait(2) layout: signal in bits 0-6 (bit 7 = core dumped), else the
  // exit status in bits 8-15.
  const uint32_t signal = wait_status & 0x7f;
  if (signal != 0) return absl::StrCat("sig", signal);
  return absl::StrCat((wait_status >> 8) & 0xff);
}

void ExecProbe::SkelDeleter::operator()(exec_bpf* skel) const { exec_bpf__destroy(skel); }
void ExecProbe::RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
void ExecProbe::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

ExecProbe::ExecProbe(ExecProbeOptions options)
    : Probe("exec"),
      options_(options),
      attach_points_(OrDefault(options.attach_points, kExecAttachPoints)),
      exit_attach_points_(OrDefault(options.exit_attach_points, kExitAttachPoints)),
      recent_(options.tail_capacity) {}

ExecProbe::~ExecProbe() { Stop(); }

absl::Status ExecProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");

  skel_.reset(exec_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the BPF object");
  int err = bpf_map__set_max_entries(skel_->maps.events, options_.ring_bytes);
  if (err) return LibbpfStatus(err, "sizing the ring buffer");
  // Attach points are attached by hand below: exactly one of each may run.
  for (const auto* points : {&attach_points_, &exit_attach_points_}) {
    for (const ExecAttachPoint& a : *points) {
      // A build mismatch, not a kernel error: errno is stale here, so the
      // status names the program instead.
      bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, a.program);
      if (prog == nullptr) {
        return absl::InternalError(absl::StrCat("BPF program '", a.program, "' (", a.description,
                                                ") is missing from the exec BPF object"));
      }
      bpf_program__set_autoattach(prog, false);
    }
  }
  err = exec_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, "loading into the kernel");
  std::string exec_used, exit_used;
  ANDON_ASSIGN_OR_RETURN(exec_link_, AttachFirst(attach_points_, exec_used));
  ANDON_ASSIGN_OR_RETURN(exit_link_, AttachFirst(exit_attach_points_, exit_used));
  const std::string used = absl::StrCat(exec_used, ",", exit_used);
  ANDON_LOG(DEBUG) << "exec probe attached to " << used;
  SetAttachPoint(used);
  {
    absl::MutexLock lock(&mu_);
    attached_to_ = used;
  }

  ring_.reset(
      ring_buffer__new(bpf_map__fd(skel_->maps.events), &ExecProbe::OnEvent, this, nullptr));
  if (!ring_) return LibbpfStatus(errno, "opening the ring buffer");
  stopping_ = false;
  poller_ = std::thread([this] { PollLoop(); });
  return absl::OkStatus();
}

absl::StatusOr<ExecProbe::Link> ExecProbe::AttachFirst(const std::vector<ExecAttachPoint>& points,
                                                       std::string& used) {
  absl::Status first_error;
  for (const ExecAttachPoint& a : points) {
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, a.program);
    Link link(bpf_program__attach(prog));
    if (link) {
      used = a.description;
      return link;
    }
    absl::Status s = LibbpfStatus(errno, absl::StrCat("attaching ", a.description));
    ANDON_LOG(DEBUG) << "exec probe: " << s.message() << "; trying the next attach point";
    if (first_error.ok()) first_error = s;
  }
  return first_error;
}

void ExecProbe::StopImpl() {
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  // The ring buffer reads the skeleton's map, so it goes first.
  ring_.reset();
  exec_link_.reset();
  exit_link_.reset();
  skel_.reset();
  absl::MutexLock lock(&mu_);
  attached_to_.clear();
}

void ExecProbe::PollLoop() {
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.poll_interval));
  while (!stopping_) {
    int n = ring_buffer__poll(ring_.get(), timeout_ms);
    if (n < 0 && n != -EINTR) {
      absl::MutexLock lock(&mu_);
      poll_error_ = LibbpfStatus(n, "polling the ring buffer");
      return;
    }
  }
}

v1::Event ToProtoEvent(const ExecEvent& e) {
  v1::Event out;
  out.set_type(e.type == ExecEvent::Type::kExec ? "exec" : "exit");
  out.set_time_ns(absl::ToUnixNanos(e.time));
  auto field = [&out](const char* name, std::string value) {
    v1::Label* l = out.add_fields();
    l->set_name(name);
    l->set_value(std::move(value));
  };
  field("pid", absl::StrCat(e.pid));
  field("ppid", absl::StrCat(e.ppid));
  field("comm", e.comm);
  if (e.type == ExecEvent::Type::kExec) {
    field("filename", e.filename);
  } else {
    field("exit_code", absl::StrCat(e.exit_code));
    if (e.exit_signal != 0) field("signal", absl::StrCat(e.exit_signal));
    field("lifetime_ms", absl::StrCat(absl::ToInt64Milliseconds(e.lifetime)));
  }
  return out;
}

int ExecProbe::OnEvent(void* self, void* data, size_t size) {
  auto* probe = static_cast<ExecProbe*>(self);
  if (size < EXEC_EXIT_EVENT_SIZE) return 0;  // cannot happen with a matching .bpf.o
  const auto* e = static_cast<const exec_event*>(data);
  ExecEvent event = Decode(*e, size);
  absl::MutexLock lock(&probe->mu_);
  if (event.type == ExecEvent::Type::kExec) {
    probe->pending_[event.comm] += 1;
  } else {
    probe->pending_exits_[{event.comm, ExitCodeLabel(e->exit_code)}] += 1;
  }
  probe->EmitEvent(ToProtoEvent(event));
  probe->recent_.Push(std::move(event));
  return 0;
}

absl::Status ExecProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  absl::flat_hash_map<std::string, uint64_t> pending;
  absl::flat_hash_map<std::pair<std::string, std::string>, uint64_t> exits;
  {
    absl::MutexLock lock(&mu_);
    if (!poll_error_.ok()) return poll_error_;
    pending.swap(pending_);
    exits.swap(pending_exits_);
  }
  for (const auto& [comm, count] : pending) {
    v1::SeriesKey series;
    series.set_metric("execs");
    v1::Label* label = series.add_labels();
    label->set_name("comm");
    label->set_value(comm);
    acc.AddCounter(series, count, sample_time);
    AddEvents(count);
  }
  for (const auto& [comm_code, count] : exits) {
    v1::SeriesKey series;
    series.set_metric("exits");
    v1::Label* comm = series.add_labels();
    comm->set_name("comm");
    comm->set_value(comm_code.first);
    v1::Label* code = series.add_labels();
    code->set_name("code");
    code->set_value(comm_code.second);
    acc.AddCounter(series, count, sample_time);
    AddEvents(count);
  }
  SetDrops(ReadDrops());
  return absl::OkStatus();
}

uint64_t ExecProbe::ReadDrops() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (__u64 v : values) total += v;
  return total;
}

std::vector<ExecEvent> ExecProbe::RecentEvents() const {
  absl::MutexLock lock(&mu_);
  return recent_.Snapshot();
}

std::string ExecProbe::attached_to() const {
  absl::MutexLock lock(&mu_);
  return attached_to_;
}

}  // namespace andon::agent
