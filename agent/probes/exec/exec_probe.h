#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/bounded_ring.h"
#include "agent/probe.h"

struct exec_bpf;     // generated skeleton; only exec_probe.cc sees it
struct ring_buffer;  // libbpf
struct bpf_link;     // libbpf
struct bpf_program;  // libbpf

namespace andon::agent {

// A way to hook process exec: a BPF program in exec.bpf.c.
struct ExecAttachPoint {
  const char* program;      // BPF program name in exec.bpf.c
  const char* description;  // for logs and errors
};

struct ExecProbeOptions {
  uint32_t ring_bytes = 256 * 1024;  // kernel ring buffer size: a power of 2, >= page size
  size_t tail_capacity = 256;        // recent events kept for live tails
  absl::Duration poll_interval = absl::Milliseconds(100);
  // Attach points in order of preference; the first that attaches wins.
  // Empty means the built-in list (tracepoint, then tp_btf).
  std::vector<ExecAttachPoint> attach_points;
};

// A process exec, decoded from the kernel's ring buffer.
struct ExecEvent {
  absl::Time time;  // when user space received it
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string comm;
  std::string filename;
};

// Reports execs: the metric `execs` {comm} per window, and the last
// `tail_capacity` raw events for a live tail. A thread drains the kernel ring
// buffer continuously so that bursts between collections are not dropped.
// Thread safety: as Probe; RecentEvents() may be called from any thread.
class ExecProbe final : public Probe {
 public:
  explicit ExecProbe(ExecProbeOptions options = {});
  ~ExecProbe() override;

  // The most recent events, oldest first.
  std::vector<ExecEvent> RecentEvents() const;

  // The attach point in use ("tracepoint sched/sched_process_exec" or the
  // tp_btf fallback when tracefs is not mounted); empty unless running.
  std::string attached_to() const;

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

  // Attaches the first of `programs` (in attach_points_ order) that works on
  // this kernel.
  absl::Status Attach(const std::vector<bpf_program*>& programs);

  static int OnEvent(void* self, void* data, size_t size);
  void PollLoop();
  uint64_t ReadDrops() const;

  const ExecProbeOptions options_;
  const std::vector<ExecAttachPoint> attach_points_;  // never empty
  std::unique_ptr<exec_bpf, SkelDeleter> skel_;
  std::unique_ptr<bpf_link, LinkDeleter> link_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
  int num_cpus_ = 0;
  std::thread poller_;
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> pending_ ABSL_GUARDED_BY(mu_);  // execs by comm
  BoundedRing<ExecEvent> recent_ ABSL_GUARDED_BY(mu_);
  absl::Status poll_error_ ABSL_GUARDED_BY(mu_);
  std::string attached_to_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::agent
