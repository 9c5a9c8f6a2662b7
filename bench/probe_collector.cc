#include "bench/probe_collector.h"

#include <pthread.h>

#include "absl/time/clock.h"
#include "bench/storm.h"
#include "common/series_key.h"

namespace andon::bench {
namespace {

bool Matches(const v1::Point& p, const std::string& metric,
             const std::vector<std::pair<std::string, std::string>>& labels) {
  if (p.series().metric() != metric) return false;
  for (const auto& [name, value] : labels) {
    if (LabelValue(p.series(), name) != value) return false;
  }
  return true;
}

}  // namespace

ProbeCollector::ProbeCollector(agent::Probe& probe, int avoid_cpu)
    : probe_(probe), acc_(absl::Seconds(1), {}) {
  thread_ = std::thread([this, avoid_cpu] {
    pthread_setname_np(pthread_self(), kCollectorComm);
    AvoidCpu(avoid_cpu);
    while (!done_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      absl::Status s = probe_.Collect(absl::Now(), acc_);
      if (!s.ok() && status_.ok()) status_ = s;
    }
    absl::Status s = probe_.Collect(absl::Now(), acc_);
    if (!s.ok() && status_.ok()) status_ = s;
    collect_cpu_ns_ = ThreadCpuNs();
  });
}

ProbeCollector::~ProbeCollector() { Join(); }

void ProbeCollector::Join() {
  if (!thread_.joinable()) return;
  done_.Notify();
  thread_.join();
}

absl::StatusOr<std::vector<v1::Point>> ProbeCollector::Finish() {
  Join();
  if (!status_.ok()) return status_;
  return acc_.FlushAll();
}

uint64_t SumCounters(const std::vector<v1::Point>& points, const std::string& metric,
                     const std::vector<std::pair<std::string, std::string>>& labels) {
  uint64_t total = 0;
  for (const v1::Point& p : points) {
    if (Matches(p, metric, labels)) total += p.value().counter();
  }
  return total;
}

uint64_t SumDistributionCounts(const std::vector<v1::Point>& points, const std::string& metric,
                               const std::vector<std::pair<std::string, std::string>>& labels) {
  uint64_t total = 0;
  for (const v1::Point& p : points) {
    if (Matches(p, metric, labels)) total += p.value().distribution().count();
  }
  return total;
}

}  // namespace andon::bench
