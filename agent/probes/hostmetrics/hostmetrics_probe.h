#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "agent/probes/hostmetrics/counter_deltas.h"
#include "common/probe_catalog.h"

namespace andon::agent {

struct HostMetricsOptions {
  // Where procfs and sysfs are mounted; tests point these at fixtures, an
  // agent in a container at the host's /proc and /sys bind-mounted elsewhere.
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  // USER_HZ, the unit of /proc/stat; 0 = sysconf(_SC_CLK_TCK).
  uint64_t ticks_per_second = 0;
};

// Reads host-wide metrics from procfs, no BPF: cpu_ms {mode}, load_average
// {period}, memory_bytes {kind}, disk_bytes and disk_ops {disk, op} for whole
// disks, network_bytes and network_packets {interface, direction} except lo.
// Counters are per-window deltas of the kernel's cumulative values: the first
// Collect only takes baselines, and an interval in which a value went down
// (wrap, reset) emits nothing for that series. /proc/stat is required; a
// missing or malformed other file is logged once and its metrics left out.
// Thread safety: as Probe.
class HostMetricsProbe final : public Probe {
 public:
  explicit HostMetricsProbe(HostMetricsOptions options = {});
  ~HostMetricsProbe() override;

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("hostmetrics"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  using Labels = std::initializer_list<std::pair<const char*, absl::string_view>>;

  // Bits of warned_: each optional source warns once when it fails.
  enum Source : uint32_t { kLoadavg = 1, kMeminfo = 2, kDiskstats = 4, kNetDev = 8 };

  absl::Status CollectCpu(absl::Time at, WindowAccumulator& acc);
  absl::Status CollectLoad(absl::Time at, WindowAccumulator& acc);
  absl::Status CollectMemory(absl::Time at, WindowAccumulator& acc);
  absl::Status CollectDisks(absl::Time at, WindowAccumulator& acc);
  absl::Status CollectNetwork(absl::Time at, WindowAccumulator& acc);
  // Logs an optional source's failure the first time it happens.
  void WarnOnce(Source source, const absl::Status& status);
  // True for a whole disk (not a partition): it has a /sys/block entry.
  bool IsWholeDisk(const std::string& name) const;

  // Emits the delta of a cumulative counter, if there is one.
  void Counter(absl::string_view metric, Labels labels, uint64_t cumulative, absl::Time at,
               WindowAccumulator& acc);
  void Gauge(absl::string_view metric, Labels labels, double value, absl::Time at,
             WindowAccumulator& acc);

  const HostMetricsOptions options_;
  uint64_t ticks_per_second_ = 100;
  CounterDeltas deltas_;
  uint32_t warned_ = 0;
};

}  // namespace andon::agent
