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

// Where the probe can hook process exec, in order of preference; the first
// that attaches wins (Stirling-style attach points as data).
constexpr ExecAttachPoint kAttachPoints[] = {
    {"handle_exec_tp", "tracepoint sched/sched_process_exec"},
    {"handle_exec_btf", "tp_btf sched_process_exec"},
};

std::vector<ExecAttachPoint> AttachPointsOrDefault(const std::vector<ExecAttachPoint>& given) {
  if (!given.empty()) return given;
  return {std::begin(kAttachPoints), std::end(kAttachPoints)};
}

}  // namespace

void ExecProbe::SkelDeleter::operator()(exec_bpf* skel) const { exec_bpf__destroy(skel); }
void ExecProbe::RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
void ExecProbe::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

ExecProbe::ExecProbe(ExecProbeOptions options)
    : Probe("exec"),
      options_(options),
      attach_points_(AttachPointsOrDefault(options.attach_points)),
      recent_(options.tail_capacity) {}

ExecProbe::~ExecProbe() { Stop(); }

absl::Status ExecProbe::InitImpl() {
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");

  skel_.reset(exec_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the BPF object");
  int err = bpf_map__set_max_entries(skel_->maps.events, options_.ring_bytes);
  if (err) return LibbpfStatus(err, "sizing the ring buffer");
  // Attach points are attached by hand below: exactly one may run.
  std::vector<bpf_program*> programs;
  for (const ExecAttachPoint& a : attach_points_) {
    // A build mismatch, not a kernel error: errno is stale here, so the
    // status names the program instead.
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, a.program);
    if (prog == nullptr) {
      return absl::InternalError(absl::StrCat("BPF program '", a.program, "' (", a.description,
                                              ") is missing from the exec BPF object"));
    }
    bpf_program__set_autoattach(prog, false);
    programs.push_back(prog);
  }
  err = exec_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, "loading into the kernel");
  ANDON_RETURN_IF_ERROR(Attach(programs));

  ring_.reset(
      ring_buffer__new(bpf_map__fd(skel_->maps.events), &ExecProbe::OnEvent, this, nullptr));
  if (!ring_) return LibbpfStatus(errno, "opening the ring buffer");
  stopping_ = false;
  poller_ = std::thread([this] { PollLoop(); });
  return absl::OkStatus();
}

absl::Status ExecProbe::Attach(const std::vector<bpf_program*>& programs) {
  absl::Status first_error;
  for (size_t i = 0; i < programs.size(); ++i) {
    const ExecAttachPoint& a = attach_points_[i];
    link_.reset(bpf_program__attach(programs[i]));
    if (link_) {
      ANDON_LOG(DEBUG) << "exec probe attached to " << a.description;
      absl::MutexLock lock(&mu_);
      attached_to_ = a.description;
      return absl::OkStatus();
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
  link_.reset();
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

int ExecProbe::OnEvent(void* self, void* data, size_t size) {
  auto* probe = static_cast<ExecProbe*>(self);
  if (size < sizeof(exec_event)) return 0;  // cannot happen with a matching .bpf.o
  const auto* e = static_cast<const exec_event*>(data);
  ExecEvent event{absl::Now(), e->pid, e->ppid, CString(e->comm, sizeof(e->comm)),
                  CString(e->filename, sizeof(e->filename))};
  absl::MutexLock lock(&probe->mu_);
  probe->pending_[event.comm] += 1;
  probe->recent_.Push(std::move(event));
  return 0;
}

absl::Status ExecProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  absl::flat_hash_map<std::string, uint64_t> pending;
  {
    absl::MutexLock lock(&mu_);
    if (!poll_error_.ok()) return poll_error_;
    pending.swap(pending_);
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
