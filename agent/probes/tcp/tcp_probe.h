#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/bounded_ring.h"
#include "agent/probe.h"
#include "agent/probes/biolatency/cumulative_map_reader.h"
#include "agent/probes/biolatency/program_selection.h"
#include "common/probe_catalog.h"

struct tcp_bpf;      // generated skeleton; only tcp_probe.cc sees it
struct ring_buffer;  // libbpf

namespace andon::agent {

// Where connects start being timed. The state-change, retransmit and reset
// programs are attached with every choice.
struct TcpAttachPoint {
  // A BPF program of tcp.bpf.c run at connect(); nullptr: the clock starts
  // at the SYN_SENT transition of sock:inet_sock_set_state.
  const char* connect_program;
  const char* description;  // the status shows it: "fentry:tcp_v4_connect"
};

struct TcpProbeOptions {
  uint32_t max_keys = 16384;         // (comm, kind, bucket) counters the kernel map holds
  uint32_t ring_bytes = 256 * 1024;  // event ring buffer: a power of 2, >= page size
  size_t recent_capacity = 256;      // reset/retransmit events kept for live tails
  absl::Duration idle_eviction = absl::Seconds(60);  // forget counters idle this long
  absl::Duration poll_interval = absl::Milliseconds(100);
  // In order of preference; the first that loads and attaches wins. Empty
  // means the built-in list: fentry:tcp_v4_connect (where the kernel has
  // fentry), then the tracepoint alone.
  std::vector<TcpAttachPoint> attach_points;
};

// TCP activity per owning process (the one that called connect(), or that
// listens on the port a connection was accepted on): the counters
// tcp_connects, tcp_accepts, tcp_retransmits and tcp_resets, and the
// distribution tcp_connect_latency_ns (connect to established). Counters are
// kept in the kernel as cumulative per-CPU values, so windows are exact.
// Resets and retransmits are also kept as events ("tcp_reset",
// "tcp_retransmit") with addresses and ports as fields, the last
// `recent_capacity` of them, drained from the kernel by a thread.
// Thread safety: as Probe; RecentEvents() may be called from any thread.
class TcpProbe final : public Probe {
 public:
  explicit TcpProbe(TcpProbeOptions options = {});
  ~TcpProbe() override;

  // The most recent reset and retransmit events, oldest first.
  std::vector<v1::Event> RecentEvents() const;

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("tcp"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct SkelDeleter {
    void operator()(tcp_bpf* skel) const;
  };
  struct RingBufferDeleter {
    void operator()(ring_buffer* rb) const;
  };

  // Opens, loads and attaches the skeleton for `a`.
  absl::Status TryAttachPoint(const TcpAttachPoint& a);
  static int OnEvent(void* self, void* data, size_t size);
  void PollLoop();
  uint64_t ReadDrops() const;

  const TcpProbeOptions options_;
  const std::vector<TcpAttachPoint> attach_points_;  // never empty
  std::unique_ptr<tcp_bpf, SkelDeleter> skel_;
  std::vector<BpfLink> links_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
  std::optional<CumulativeMapReader> reader_;
  int num_cpus_ = 0;
  int64_t monotonic_to_unix_ns_ = 0;  // added to bpf_ktime_get_ns() times
  std::thread poller_;
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex mu_;
  BoundedRing<v1::Event> recent_ ABSL_GUARDED_BY(mu_);
  absl::Status poll_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace andon::agent
