#include "bench/storm.h"

#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace andon::bench {
namespace {

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void CallGetppid(int64_t n) {
  for (int64_t i = 0; i < n; ++i) syscall(SYS_getppid);
}

}  // namespace

absl::Status PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot pin to CPU ", cpu, ": not in this process's allowed set (--cpu)"));
  }
  return absl::OkStatus();
}

void AvoidCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const long ncpus = sysconf(_SC_NPROCESSORS_CONF);
  for (int c = 0; c < CPU_SETSIZE && c < ncpus; ++c) {
    if (c != cpu) CPU_SET(c, &set);
  }
  if (CPU_COUNT(&set) > 0) sched_setaffinity(0, sizeof(set), &set);
}

int LastAllowedCpu() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return 0;
}

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t GetppidRounds(int64_t calls, int rounds, Rounds& out) {
  const int64_t warmup = std::max<int64_t>(calls / 10, 1);
  CallGetppid(warmup);
  for (int r = 0; r < rounds; ++r) {
    const int64_t wall0 = MonotonicNs(), cpu0 = ThreadCpuNs();
    CallGetppid(calls);
    const int64_t cpu1 = ThreadCpuNs(), wall1 = MonotonicNs();
    out.push_back(
        {static_cast<double>(wall1 - wall0) / calls, static_cast<double>(cpu1 - cpu0) / calls});
  }
  return warmup + static_cast<int64_t>(rounds) * calls;
}

int64_t GetppidFor(absl::Duration duration, int64_t* cpu_ns) {
  constexpr int64_t kBatch = 10000;  // calls between looks at the clock
  const absl::Time end = absl::Now() + duration;
  const int64_t cpu0 = ThreadCpuNs();
  int64_t made = 0;
  while (absl::Now() < end) {
    CallGetppid(kBatch);
    made += kBatch;
  }
  *cpu_ns = ThreadCpuNs() - cpu0;
  return made;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : (values[m - 1] + values[m]) / 2;
}

}  // namespace andon::bench
