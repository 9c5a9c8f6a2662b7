#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "agent/probes/biolatency/cumulative_map_reader.h"
#include "agent/probes/biolatency/program_selection.h"
#include "common/probe_catalog.h"

struct biolatency_bpf;  // generated skeleton; only biolatency_probe.cc sees it

namespace andon::agent {

// A way to observe block requests: a pair of BPF programs in biolatency.bpf.c.
struct BiolatencyAttachPoint {
  const char* issue_program;     // at issue to the device driver
  const char* complete_program;  // at completion
  const char* description;       // the status shows it: "tp_btf:block_rq_issue"
  bool needs_tracefs;            // classic tracepoints resolve their ids in tracefs
};

struct BiolatencyProbeOptions {
  uint32_t max_keys = 16384;  // (disk, op, bucket) counters the kernel map holds
  absl::Duration idle_eviction = absl::Seconds(60);  // forget counters idle this long
  // In order of preference; the first that attaches wins. Empty means the
  // built-in list: tp_btf, then the classic tracepoint.
  std::vector<BiolatencyAttachPoint> attach_points;
};

// Block I/O per whole disk and operation (read, write, flush, discard):
// bio_latency_ns, the time from issue to completion, as a distribution, and
// bio_bytes, the bytes completed, as a counter. The kernel buckets latencies
// into cumulative per-CPU counters; each Collect emits what grew since the
// previous one, so windows are exact. Disks are named from
// /sys/dev/block/MAJ:MIN (e.g. "vda", "loop3").
// Thread safety: as Probe.
class BiolatencyProbe final : public Probe {
 public:
  explicit BiolatencyProbe(BiolatencyProbeOptions options = {});
  ~BiolatencyProbe() override;

  // Counters removed from the kernel map as idle so far (for tests).
  uint64_t evicted_keys() const { return reader_ ? reader_->evicted_keys() : 0; }

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("biolatency"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct SkelDeleter {
    void operator()(biolatency_bpf* skel) const;
  };

  // Opens, loads and attaches the skeleton with only `a`'s programs.
  absl::Status TryAttachPoint(const BiolatencyAttachPoint& a);
  // The disk's name for the kernel's dev_t encoding (major << 20 | minor).
  const std::string& DiskName(uint32_t dev);
  uint64_t ReadDrops() const;

  const BiolatencyProbeOptions options_;
  const std::vector<BiolatencyAttachPoint> attach_points_;  // never empty
  std::unique_ptr<biolatency_bpf, SkelDeleter> skel_;
  std::vector<BpfLink> links_;
  std::optional<CumulativeMapReader> reader_;
  absl::flat_hash_map<uint32_t, std::string> disk_names_;
  int num_cpus_ = 0;
};

}  // namespace andon::agent
