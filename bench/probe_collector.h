#pragma once

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "agent/probe.h"
#include "agent/window.h"
#include "andon/v1/types.pb.h"

namespace andon::bench {

// Drives an initialised Probe as the agent's collect loop does: a thread of
// its own (named kCollectorComm, kept off the timed CPU) calls Collect once
// per second into one window accumulator. Finish() stops the thread, makes a
// last Collect and returns every point gathered. Not thread-safe: one owner.
class ProbeCollector {
 public:
  static constexpr char kCollectorComm[] = "andon_po_coll";

  ProbeCollector(agent::Probe& probe, int avoid_cpu);
  ~ProbeCollector();  // joins the thread if Finish() was not called
  ProbeCollector(const ProbeCollector&) = delete;
  ProbeCollector& operator=(const ProbeCollector&) = delete;

  // The first error a Collect returned, or every point.
  absl::StatusOr<std::vector<v1::Point>> Finish();

  // CPU time (user + system) the collect thread used, valid after Finish():
  // the probe's user-space cost, comparable with bpftrace's process CPU.
  int64_t collect_cpu_ns() const { return collect_cpu_ns_; }

 private:
  void Join();

  agent::Probe& probe_;
  agent::WindowAccumulator acc_;
  absl::Notification done_;
  absl::Status status_;  // written by the thread, read after Join()
  int64_t collect_cpu_ns_ = 0;
  std::thread thread_;
};

// Sums the counters of `metric` whose labels include every (name, value) of
// `labels`, and (for distributions) their counts.
uint64_t SumCounters(const std::vector<v1::Point>& points, const std::string& metric,
                     const std::vector<std::pair<std::string, std::string>>& labels);
uint64_t SumDistributionCounts(const std::vector<v1::Point>& points, const std::string& metric,
                               const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace andon::bench
