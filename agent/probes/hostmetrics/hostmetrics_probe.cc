#include "agent/probes/hostmetrics/hostmetrics_probe.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "agent/probes/hostmetrics/proc_diskstats.h"
#include "agent/probes/hostmetrics/proc_loadavg.h"
#include "agent/probes/hostmetrics/proc_meminfo.h"
#include "agent/probes/hostmetrics/proc_net_dev.h"
#include "agent/probes/hostmetrics/proc_stat.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace andon::agent {
namespace {

// The whole of a procfs file (whose stat size is 0, so it is read as a stream).
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error while reading ", path));
  return text.str();
}

// Prefixes a parse error with the file it came from.
absl::Status InFile(const absl::Status& s, const std::string& path) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

v1::SeriesKey MakeSeries(absl::string_view metric,
                         std::initializer_list<std::pair<const char*, absl::string_view>> labels) {
  v1::SeriesKey series;
  series.set_metric(std::string(metric));
  for (const auto& [name, value] : labels) {
    v1::Label* l = series.add_labels();
    l->set_name(name);
    l->set_value(std::string(value));
  }
  return series;
}

}  // namespace

HostMetricsProbe::HostMetricsProbe(HostMetricsOptions options)
    : Probe("hostmetrics"), options_(std::move(options)) {}

HostMetricsProbe::~HostMetricsProbe() { Stop(); }

absl::Status HostMetricsProbe::InitImpl() {
  ticks_per_second_ = options_.ticks_per_second;
  if (ticks_per_second_ == 0) {
    const long hz = sysconf(_SC_CLK_TCK);
    ticks_per_second_ = hz > 0 ? static_cast<uint64_t>(hz) : 100;
  }
  const std::string path = options_.proc_root + "/stat";
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(text.status().message(), "; hostmetrics needs procfs mounted at ",
                     options_.proc_root, " (set proc_root if it is elsewhere)"));
  }
  absl::StatusOr<CpuTimesMs> cpu = ParseProcStatCpu(*text, ticks_per_second_);
  if (!cpu.ok()) return InFile(cpu.status(), path);
  SetAttachPoint("procfs");
  return absl::OkStatus();
}

void HostMetricsProbe::StopImpl() { deltas_ = CounterDeltas(); }

absl::Status HostMetricsProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  ANDON_RETURN_IF_ERROR(CollectCpu(sample_time, acc));
  WarnOnce(kLoadavg, CollectLoad(sample_time, acc));
  WarnOnce(kMeminfo, CollectMemory(sample_time, acc));
  WarnOnce(kDiskstats, CollectDisks(sample_time, acc));
  WarnOnce(kNetDev, CollectNetwork(sample_time, acc));
  deltas_.EndRound();
  AddEvents(1);  // one sample of the host
  return absl::OkStatus();
}

absl::Status HostMetricsProbe::CollectCpu(absl::Time at, WindowAccumulator& acc) {
  const std::string path = options_.proc_root + "/stat";
  ANDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<CpuTimesMs> cpu = ParseProcStatCpu(text, ticks_per_second_);
  if (!cpu.ok()) return InFile(cpu.status(), path);
  for (size_t i = 0; i < kCpuModes.size(); ++i) {
    Counter("cpu_ms", {{"mode", kCpuModes[i]}}, (*cpu)[i], at, acc);
  }
  return absl::OkStatus();
}

absl::Status HostMetricsProbe::CollectLoad(absl::Time at, WindowAccumulator& acc) {
  const std::string path = options_.proc_root + "/loadavg";
  ANDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<LoadAverages> load = ParseProcLoadavg(text);
  if (!load.ok()) return InFile(load.status(), path);
  for (size_t i = 0; i < kLoadPeriods.size(); ++i) {
    Gauge("load_average", {{"period", kLoadPeriods[i]}}, (*load)[i], at, acc);
  }
  return absl::OkStatus();
}

absl::Status HostMetricsProbe::CollectMemory(absl::Time at, WindowAccumulator& acc) {
  const std::string path = options_.proc_root + "/meminfo";
  ANDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<MemoryBytes> m = ParseProcMeminfo(text);
  if (!m.ok()) return InFile(m.status(), path);
  const std::pair<const char*, uint64_t> kinds[] = {
      {"total", m->total},     {"available", m->available}, {"free", m->free},
      {"buffers", m->buffers}, {"cached", m->cached},       {"used", m->used}};
  for (const auto& [kind, bytes] : kinds) {
    Gauge("memory_bytes", {{"kind", kind}}, static_cast<double>(bytes), at, acc);
  }
  return absl::OkStatus();
}

absl::Status HostMetricsProbe::CollectDisks(absl::Time at, WindowAccumulator& acc) {
  const std::string path = options_.proc_root + "/diskstats";
  ANDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<std::vector<DiskStats>> disks = ParseProcDiskstats(text);
  if (!disks.ok()) return InFile(disks.status(), path);
  for (const DiskStats& d : *disks) {
    // Partitions would count their disk's I/O twice. Idle loop and RAM disks
    // (dozens on most hosts) are tracked but emit nothing, since only
    // non-zero deltas become points; one that becomes active counts from its
    // first I/O.
    if (!IsWholeDisk(d.name)) continue;
    Counter("disk_bytes", {{"disk", d.name}, {"op", "read"}}, d.read_bytes, at, acc);
    Counter("disk_bytes", {{"disk", d.name}, {"op", "write"}}, d.write_bytes, at, acc);
    Counter("disk_ops", {{"disk", d.name}, {"op", "read"}}, d.reads, at, acc);
    Counter("disk_ops", {{"disk", d.name}, {"op", "write"}}, d.writes, at, acc);
  }
  return absl::OkStatus();
}

absl::Status HostMetricsProbe::CollectNetwork(absl::Time at, WindowAccumulator& acc) {
  const std::string path = options_.proc_root + "/net/dev";
  ANDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::StatusOr<std::vector<NetDevStats>> devs = ParseProcNetDev(text);
  if (!devs.ok()) return InFile(devs.status(), path);
  for (const NetDevStats& n : *devs) {
    if (n.interface == "lo") continue;  // loopback traffic never leaves the host
    const absl::string_view i = n.interface;
    Counter("network_bytes", {{"interface", i}, {"direction", "rx"}}, n.rx_bytes, at, acc);
    Counter("network_bytes", {{"interface", i}, {"direction", "tx"}}, n.tx_bytes, at, acc);
    Counter("network_packets", {{"interface", i}, {"direction", "rx"}}, n.rx_packets, at, acc);
    Counter("network_packets", {{"interface", i}, {"direction", "tx"}}, n.tx_packets, at, acc);
  }
  return absl::OkStatus();
}

bool HostMetricsProbe::IsWholeDisk(const std::string& name) const {
  // sysfs spells '/' in device names ("cciss/c0d0") as '!'.
  std::error_code ec;
  return std::filesystem::exists(
      absl::StrCat(options_.sys_root, "/block/", absl::StrReplaceAll(name, {{"/", "!"}})), ec);
}

void HostMetricsProbe::WarnOnce(Source source, const absl::Status& status) {
  if (status.ok() || (warned_ & source) != 0) return;
  warned_ |= source;
  ANDON_LOG(WARNING) << "hostmetrics: " << status.message()
                     << "; its metrics are left out (logged once)";
}

void HostMetricsProbe::Counter(absl::string_view metric, Labels labels, uint64_t cumulative,
                               absl::Time at, WindowAccumulator& acc) {
  v1::SeriesKey series = MakeSeries(metric, labels);
  // Serialized (deterministic for a message without maps) as the delta key.
  std::optional<uint64_t> delta = deltas_.Update(series.SerializeAsString(), cumulative);
  if (delta && *delta > 0) acc.AddCounter(series, *delta, at);
}

void HostMetricsProbe::Gauge(absl::string_view metric, Labels labels, double value, absl::Time at,
                             WindowAccumulator& acc) {
  acc.AddGauge(MakeSeries(metric, labels), value, at);
}

}  // namespace andon::agent
