#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/bounded_ring.h"
#include "agent/probe.h"
#include "common/probe_catalog.h"

struct exec_bpf;     // generated skeleton; only exec_probe.cc sees it
struct ring_buffer;  // libbpf
struct bpf_link;     // libbpf
struct bpf_program;  // libbpf

namespace andon::agent {

// A way to hook process exec or exit: a BPF program in exec.bpf.c.
struct ExecAttachPoint {
  const char* program;      // BPF program name in exec.bpf.c
  const char* description;  // as the status shows it: "tp_btf:sched_process_exec"
};

struct ExecProbeOptions {
  uint32_t ring_bytes = 256 * 1024;  // kernel ring buffer size: a power of 2, >= page size
  size_t tail_capacity = 256;        // recent events kept for live tails
  absl::Duration poll_interval = absl::Milliseconds(100);
  // Exec attach points in order of preference; the first that attaches wins.
  // Empty means the built-in list (tracepoint, then tp_btf).
  std::vector<ExecAttachPoint> attach_points;
  // The same for process exits. Empty means tracepoint, tp_btf, then
  // raw_tracepoint.
  std::vector<ExecAttachPoint> exit_attach_points;
};

// A process exec or exit, decoded from the kernel's ring buffer.
struct ExecEvent {
  enum class Type { kExec, kExit };
  Type type = Type::kExec;
  absl::Time time;  // when user space received it
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string comm;      // exec: the new program's name; exit: the name at exit
  std::string filename;  // exec only: the path passed to execve
  // Exit only: the exit status (0-255) of a process that exited, or 0 and
  // the signal that killed it; and how long the process lived.
  int exit_code = 0;
  int exit_signal = 0;
  absl::Duration lifetime;
};

// The `code` label of the exits metric for a wait(2) status as the kernel
// keeps it in task->exit_code: the exit status ("0", "3"), or "sig<N>" for a
// death by signal N ("sig9").
std::string ExitCodeLabel(uint32_t wait_status);

// The event as live tails carry it: type "exec" (pid, ppid, comm, filename)
// or "exit" (pid, ppid, comm, exit_code, signal, lifetime_ms).
v1::Event ToProtoEvent(const ExecEvent& event);

// Reports execs and exits: the metrics `execs` {comm} and `exits` {comm, code}
// per window, and the last `tail_capacity` raw events of both kinds for a live
// tail. Only whole processes are reported (the thread group leader's exit),
// not the threads of a process. A thread drains the kernel ring buffer
// continuously so that bursts between collections are not dropped.
// Thread safety: as Probe; RecentEvents() may be called from any thread.
class ExecProbe final : public Probe {
 public:
  explicit ExecProbe(ExecProbeOptions options = {});
  ~ExecProbe() override;

  // The most recent events, oldest first.
  std::vector<ExecEvent> RecentEvents() const;

  // The attach points in use, exec's then exit's ("tp_btf:sched_process_exec,
  // tp_btf:sched_process_exit" when tracefs is not mounted); empty unless
  // running.
  std::string attached_to() const;

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("exec"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct SkelDeleter {
    void operator()(exec_bpf* skel) const;
  };
  struct RingBufferDeleter {
    void operator()(ring_buffer* rb) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };

  using Link = std::unique_ptr<bpf_link, LinkDeleter>;

  // Attaches the first of `points` that works on this kernel; returns its
  // link and sets `used` to its description.
  absl::StatusOr<Link> AttachFirst(const std::vector<ExecAttachPoint>& points, std::string& used);

  static int OnEvent(void* self, void* data, size_t size);
  void PollLoop();
  uint64_t ReadDrops() const;

  const ExecProbeOptions options_;
  const std::vector<ExecAttachPoint> attach_points_;       // never empty
  const std::vector<ExecAttachPoint> exit_attach_points_;  // never empty
  std::unique_ptr<exec_bpf, SkelDeleter> skel_;
  Link exec_link_;
  Link exit_link_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
  int num_cpus_ = 0;
  std::thread poller_;
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> pending_ ABSL_GUARDED_BY(mu_);  // execs by comm
  // Exits by comm and code label.
  absl::flat_hash_map<std::pair<std::string, std::string>, uint64_t> pending_exits_
      ABSL_GUARDED_BY(mu_);
  BoundedRing<ExecEvent> recent_ ABSL_GUARDED_BY(mu_);
  absl::Status poll_error_ ABSL_GUARDED_BY(mu_);
  std::string attached_to_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::agent
