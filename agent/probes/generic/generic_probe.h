#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "agent/probes/biolatency/cumulative_map_reader.h"
#include "agent/probes/generic/generic_config.h"
#include "agent/probes/generic/generic_series.h"
#include "andon/v1/probes.pb.h"

struct bpf_link;  // libbpf
struct bpf_map;   // libbpf

namespace andon::agent {

struct GenericProbeOptions {
  // Budgets; a ProbeBudget's non-zero fields override these.
  uint32_t events_per_second = 100000;               // in the kernel, per CPU share; 0 = none
  uint32_t series_per_window = 1000;                 // label sets per window before "other"
  uint32_t max_keys = 10240;                         // kernel map bound (label sets)
  uint32_t max_hist = 32768;                         // kernel map bound (label set x bucket)
  absl::Duration idle_eviction = absl::Seconds(60);  // forget keys unchanged this long
};

// An operator's one-liner on this host (bpftrace-like): one of the
// pre-compiled generic BPF programs (tracepoint, uprobe/uretprobe, USDT),
// parameterised through its `const volatile` globals from a
// v1::GenericProbe, emitting the metric spec.metric(): a COUNTER of hits or
// of a summed value, or a DISTRIBUTION (latency in ns, or a numeric operand),
// labelled by up to two `by` keys. The kernel keeps cumulative per-CPU counts
// per key (and per key and bucket); each Collect emits exact deltas, evicts
// idle keys, and folds label sets beyond the series budget into "other".
// An event budget in the kernel skips events beyond events_per_second (split
// evenly over CPUs, in ticks of 100 ms) and counts them as sampled.
// Thread safety: as Probe.
class GenericProbe final : public Probe {
 public:
  // Checks `spec` (what needs no kernel: operands, filter, arguments); the
  // tracepoint's fields are checked at Init. `key` is the instance key (the
  // configuration's name).
  static absl::StatusOr<std::unique_ptr<GenericProbe>> Create(std::string key,
                                                              const v1::GenericProbe& spec,
                                                              const v1::ProbeBudget& budget = {},
                                                              GenericProbeOptions options = {});
  ~GenericProbe() override;

  std::vector<v1::MetricInfo> Metrics() const override { return {metric_}; }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };
  using Link = std::unique_ptr<bpf_link, LinkDeleter>;
  // One loaded skeleton of any family, destroyed by its own function.
  using Object = std::unique_ptr<void, void (*)(void*)>;
  // What one label set gathered in one Collect.
  struct Series;

  GenericProbe(std::string key, v1::GenericProbe spec, GenericProbeOptions options);

  // Per family (generic_load.cc): plan against the target, open, configure,
  // load and attach; sets plan_, object_, links_, the readers and the attach
  // point.
  absl::Status LoadTracepoint();
  absl::Status LoadUprobe();
  absl::Status LoadUsdt();
  template <typename Skel>
  absl::Status Configure(Skel* skel);
  absl::Status StartReaders(bpf_map* counts, bpf_map* hist, bpf_map* stats);

  // Events, drops and budget actions from the kernel's stats map.
  absl::Status ReadStats();
  void Emit(const Series& series, const std::vector<std::string>& values, absl::Time at,
            WindowAccumulator& acc);

  const v1::GenericProbe spec_;
  const GenericProbeOptions options_;
  const v1::MetricInfo metric_;
  GenericPlan plan_;
  SeriesBudget budget_;
  int num_cpus_ = 0;
  Object object_{nullptr, nullptr};
  std::vector<Link> links_;
  int stats_fd_ = -1;
  std::unique_ptr<CumulativeMapReader> counts_;
  std::unique_ptr<CumulativeMapReader> hist_;  // value_mode DISTRIBUTION only
  uint64_t hits_ = 0;                          // cumulative, from the stats map
  uint64_t sampled_ = 0;
  uint64_t folded_ = 0;
};

}  // namespace andon::agent
