#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "agent/probes/biolatency/cumulative_map_reader.h"
#include "agent/probes/biolatency/program_selection.h"
#include "common/probe_catalog.h"

struct runqlat_bpf;  // generated skeleton; only runqlat_probe.cc sees it

namespace andon::agent {

// A way to observe the scheduler: three BPF programs of runqlat.bpf.c.
struct RunqlatAttachPoint {
  const char* wakeup_program;
  const char* wakeup_new_program;
  const char* switch_program;
  const char* description;  // the status shows it: "tp_btf:sched_wakeup"
};

struct RunqlatProbeOptions {
  // Processes (by comm) given their own series per collection; the rest
  // count only in the host's series.
  uint32_t top_comms = 20;
  uint32_t max_keys = 65536;                         // (comm, bucket) counters the kernel map holds
  absl::Duration idle_eviction = absl::Seconds(60);  // forget counters idle this long
  // In order of preference; the first that loads and attaches wins. Empty
  // means the built-in list: tp_btf, then raw tracepoints.
  std::vector<RunqlatAttachPoint> attach_points;
};

// Run-queue latency (wakeup or preemption to running) as the distribution
// runq_latency_ns: one series for the whole host (no comm label) and one per
// process name for the `top_comms` names with the most samples in each
// collection. The others are folded into the host series only; how many
// were folded is reported through the budget actions. The kernel buckets
// latencies into cumulative per-CPU counters per (comm, bucket); each
// Collect emits exact deltas.
// Thread safety: as Probe.
class RunqlatProbe final : public Probe {
 public:
  explicit RunqlatProbe(RunqlatProbeOptions options = {});
  ~RunqlatProbe() override;

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("runqlat"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct SkelDeleter {
    void operator()(runqlat_bpf* skel) const;
  };

  // Opens, loads and attaches the skeleton with only `a`'s programs.
  absl::Status TryAttachPoint(const RunqlatAttachPoint& a);
  uint64_t ReadDrops() const;

  const RunqlatProbeOptions options_;
  const std::vector<RunqlatAttachPoint> attach_points_;  // never empty
  std::unique_ptr<runqlat_bpf, SkelDeleter> skel_;
  std::vector<BpfLink> links_;
  std::optional<CumulativeMapReader> reader_;
  int num_cpus_ = 0;
  uint64_t folded_ = 0;  // comm series folded into the host's so far
};

}  // namespace andon::agent
