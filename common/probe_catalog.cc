#include "common/probe_catalog.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace andon {
namespace {

v1::MetricInfo Metric(absl::string_view name, v1::MetricKind kind,
                      std::initializer_list<const char*> labels, absl::string_view unit,
                      absl::string_view help, absl::string_view source) {
  v1::MetricInfo m;
  m.set_name(std::string(name));
  m.set_kind(kind);
  for (const char* l : labels) m.add_labels(l);
  m.set_unit(std::string(unit));
  m.set_help(std::string(help));
  m.set_source(std::string(source));
  return m;
}

v1::ProbeParameter Param(absl::string_view name, v1::ProbeParameter::Type type,
                         absl::string_view default_value, uint64_t min, uint64_t max,
                         absl::string_view help) {
  v1::ProbeParameter p;
  p.set_name(std::string(name));
  p.set_type(type);
  p.set_default_value(std::string(default_value));
  p.set_min(min);
  p.set_max(max);
  p.set_help(std::string(help));
  return p;
}

v1::CatalogProbe Probe(absl::string_view name, absl::string_view help,
                       std::vector<v1::MetricInfo> metrics, std::vector<v1::ProbeParameter> params,
                       std::initializer_list<const char*> attach_points,
                       std::initializer_list<const char*> events = {}) {
  v1::CatalogProbe p;
  p.set_name(std::string(name));
  p.set_help(std::string(help));
  for (auto& m : metrics) *p.add_metrics() = std::move(m);
  for (auto& param : params) *p.add_parameters() = std::move(param);
  for (const char* a : attach_points) p.add_attach_points(a);
  for (const char* e : events) p.add_events(e);
  return p;
}

std::vector<v1::CatalogProbe> MakeCatalog() {
  using v1::COUNTER;
  using v1::DISTRIBUTION;
  using v1::GAUGE;
  using v1::TOP_K;
  std::vector<v1::CatalogProbe> out;
  out.push_back(Probe(
      "hostmetrics", "Host CPU, load, memory, disk and network from /proc and /sys (no BPF).",
      {
          Metric("cpu_ms", COUNTER, {"host", "mode"}, "ms",
                 "CPU time summed over all CPUs, by mode (user, nice, system, idle, iowait, irq, "
                 "softirq, steal).",
                 "hostmetrics"),
          Metric("load_average", GAUGE, {"host", "period"}, "", "Load average over 1m, 5m and 15m.",
                 "hostmetrics"),
          Metric("memory_bytes", GAUGE, {"host", "kind"}, "bytes",
                 "Memory by kind: total, available, free, buffers, cached, used.", "hostmetrics"),
          Metric("disk_bytes", COUNTER, {"host", "disk", "op"}, "bytes",
                 "Bytes read and written per whole disk (op read, write).", "hostmetrics"),
          Metric("disk_ops", COUNTER, {"host", "disk", "op"}, "",
                 "Completed reads and writes per whole disk.", "hostmetrics"),
          Metric("network_bytes", COUNTER, {"host", "interface", "direction"}, "bytes",
                 "Bytes received (rx) and sent (tx) per network interface.", "hostmetrics"),
          Metric("network_packets", COUNTER, {"host", "interface", "direction"}, "",
                 "Packets received (rx) and sent (tx) per network interface.", "hostmetrics"),
      },
      {}, {"procfs"}));
  out.push_back(
      Probe("syscalls", "System calls by process and call, with their latency.",
            {
                Metric("syscalls", COUNTER, {"host", "comm", "syscall"}, "",
                       "System calls entered, by process name and system call.", "syscalls"),
                Metric("syscall_latency_ns", DISTRIBUTION, {"host", "comm", "syscall"}, "ns",
                       "Time from system call entry to exit.", "syscalls"),
            },
            {Param("latency", v1::ProbeParameter::BOOL, "true", 0, 1,
                   "also measure syscall_latency_ns (costs a map update per exit)")},
            {"raw_tracepoint:sys_enter", "raw_tracepoint:sys_exit"}));
  out.push_back(
      Probe("exec", "Processes started and exited.",
            {
                Metric("execs", COUNTER, {"host", "comm"}, "",
                       "Programs started with execve, by the new program's name.", "exec"),
                Metric("exits", COUNTER, {"host", "comm", "code"}, "",
                       "Processes exited, by name and exit code.", "exec"),
            },
            {},
            {"tracepoint:sched:sched_process_exec", "tp_btf:sched_process_exec",
             "tracepoint:sched:sched_process_exit", "tp_btf:sched_process_exit",
             "raw_tracepoint:sched_process_exit"},
            {"exec", "exit"}));
  out.push_back(
      Probe("biolatency", "Block I/O latency and bytes per disk and operation.",
            {
                Metric("bio_latency_ns", DISTRIBUTION, {"host", "disk", "op"}, "ns",
                       "Block I/O request latency from issue to completion (op read, write, flush, "
                       "discard).",
                       "biolatency"),
                Metric("bio_bytes", COUNTER, {"host", "disk", "op"}, "bytes",
                       "Bytes of completed block I/O requests.", "biolatency"),
            },
            {}, {"tp_btf:block_rq_issue", "tracepoint:block:block_rq_issue"}));
  out.push_back(
      Probe("tcp", "TCP connects, accepts, retransmits and resets.",
            {
                Metric("tcp_connect_latency_ns", DISTRIBUTION, {"host", "comm"}, "ns",
                       "Time from connect() to the established state.", "tcp"),
                Metric("tcp_connects", COUNTER, {"host", "comm"}, "", "Active TCP opens.", "tcp"),
                Metric("tcp_accepts", COUNTER, {"host", "comm"}, "", "Passive TCP opens.", "tcp"),
                Metric("tcp_retransmits", COUNTER, {"host", "comm"}, "",
                       "TCP segments retransmitted.", "tcp"),
                Metric("tcp_resets", COUNTER, {"host", "comm"}, "", "TCP resets sent or received.",
                       "tcp"),
            },
            {}, {"fentry:tcp_v4_connect (optional)", "tracepoint:sock:inet_sock_set_state"},
            {"tcp_reset", "tcp_retransmit"}));
  out.push_back(Probe(
      "runqlat", "Scheduler run-queue latency: how long runnable tasks wait for a CPU.",
      {
          Metric("runq_latency_ns", DISTRIBUTION, {"host", "comm"}, "ns",
                 "Time from wakeup to running; the series without comm is the whole host, those "
                 "with comm the top processes.",
                 "runqlat"),
      },
      {Param("top_comms", v1::ProbeParameter::UINT, "20", 0, 1000,
             "processes given their own series per window (the rest only in the host's)")},
      {"tp_btf:sched_wakeup", "raw_tracepoint:sched_wakeup"}));
  out.push_back(Probe(
      "profile", "On-CPU stack sampling; folded stacks for flame graphs.",
      {
          Metric("cpu_profile", TOP_K, {"host", "comm"}, "samples",
                 "Folded kernel and user stacks (root first, ';'-separated) with sample counts.",
                 "profile"),
      },
      {Param("frequency_hz", v1::ProbeParameter::UINT, "49", 1, 1000,
             "samples per second per CPU")},
      {"perf_event:cpu-clock"}));
  return out;
}

}  // namespace

const std::vector<v1::CatalogProbe>& BuiltinProbes() {
  static const auto* catalog = new std::vector<v1::CatalogProbe>(MakeCatalog());
  return *catalog;
}

const std::vector<std::string>& GenericProbeForms() {
  static const auto* forms =
      new std::vector<std::string>{"tracepoint:CATEGORY:NAME", "uprobe:BINARY:SYMBOL",
                                   "uretprobe:BINARY:SYMBOL", "usdt:BINARY:PROVIDER:PROBE"};
  return *forms;
}

std::vector<v1::MetricInfo> BuiltinMetrics(absl::string_view name) {
  for (const v1::CatalogProbe& p : BuiltinProbes()) {
    if (p.name() == name) return {p.metrics().begin(), p.metrics().end()};
  }
  return {};
}

absl::StatusOr<const v1::CatalogProbe*> FindBuiltinProbe(absl::string_view name) {
  std::vector<std::string> names;
  for (const v1::CatalogProbe& p : BuiltinProbes()) {
    if (p.name() == name) return &p;
    names.push_back(p.name());
  }
  return absl::NotFoundError(
      absl::StrCat("unknown probe '", name, "'; built-in probes: ", absl::StrJoin(names, ", "),
                   "; generic probes: ", absl::StrJoin(GenericProbeForms(), ", ")));
}

}  // namespace andon
