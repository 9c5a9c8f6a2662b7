// Needs root and a kernel with BTF: loads the real probe.
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>

#include "agent/bpf/libbpf_status.h"
#include "agent/probes/syscalls/bucket_distribution.h"
#include "agent/probes/syscalls/syscalls_probe.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "common/value/value_test_util.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

// A process name unique to this test process: ctest runs the tests of one
// binary in parallel processes, and each counts every process on the host.
// Fixed at start-up, so forked children (which name themselves) agree.
const std::string kNamePrefix = "t" + std::to_string(getpid() % 1000000);
std::string Name(const char* tag) { return kNamePrefix + tag; }

constexpr int kCalls = 5000;

// Sum of the `syscalls` counter for (comm, syscall) over all flushed points.
uint64_t CountFor(const std::vector<v1::Point>& points, absl::string_view comm,
                  absl::string_view syscall) {
  uint64_t total = 0;
  for (const v1::Point& p : points) {
    if (p.series().metric() == "syscalls" && LabelValue(p.series(), "comm") == comm &&
        LabelValue(p.series(), "syscall") == syscall) {
      total += p.value().counter();
    }
  }
  return total;
}

class SyscallsProbeBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
      GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux: cannot run BPF tests";
    }
    InstallLibbpfLogger();
    absl::Status s = probe_.Init();
    if (absl::IsPermissionDenied(s)) {
      GTEST_SKIP() << "BPF not permitted (" << s.message() << "); run the bpf tests as root";
    }
    ASSERT_TRUE(s.ok()) << s;
  }

  SyscallsProbe probe_;
};

TEST_F(SyscallsProbeBpfTest, CountsEveryGetppidOfAChildExactly) {
  WindowAccumulator acc(absl::Seconds(1), {});
  absl::Time t0 = absl::Now();
  // Baseline read, so that only what the child does below is a delta.
  ASSERT_TRUE(probe_.Collect(t0, acc).ok());

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, Name("_sc").c_str(), 0, 0, 0);
    for (int i = 0; i < kCalls; ++i) syscall(SYS_getppid);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));

  ASSERT_TRUE(probe_.Collect(t0, acc).ok());
  // A second collection with nothing new must add nothing (deltas, not totals).
  ASSERT_TRUE(probe_.Collect(t0, acc).ok());
  std::vector<v1::Point> points = acc.Flush(t0 + absl::Seconds(2));
  uint64_t n = CountFor(points, Name("_sc").c_str(), "getppid");
  std::cerr << "counted " << n << " getppid calls for " << kCalls << " made\n";
  EXPECT_GE(n, static_cast<uint64_t>(kCalls));
  EXPECT_LE(n, static_cast<uint64_t>(kCalls + 50));
  EXPECT_EQ(probe_.status().state(), v1::ProbeState::ATTACHED);
  EXPECT_GE(probe_.status().events(), static_cast<uint64_t>(kCalls));
  EXPECT_EQ(probe_.status().drops(), 0u);
}

// Runs a child named `comm` that calls getppid `n` times, and reaps it.
void RunChild(const char* comm, int n) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, comm, 0, 0, 0);
    for (int i = 0; i < n; ++i) syscall(SYS_getppid);
    _exit(0);
  }
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

// Both eviction paths: lookup-and-delete (5.14+) and the lookup-then-delete
// fallback that older kernels (Debian 11's 5.10) need for per-CPU hashes.
class SyscallsProbeBpfEvictionTest : public ::testing::TestWithParam<bool> {};

TEST_P(SyscallsProbeBpfEvictionTest, IdleKeysAreEvictedWithoutLosingCounts) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  SyscallsProbe probe({.idle_eviction = absl::Seconds(60), .force_eviction_fallback = GetParam()});
  absl::Status s = probe.Init();
  if (absl::IsPermissionDenied(s)) GTEST_SKIP() << s.message() << "; run as root";
  ASSERT_TRUE(s.ok()) << s;
  WindowAccumulator acc(absl::Seconds(1), {});
  absl::Time t0 = absl::Now();
  RunChild(Name("_ev").c_str(), 100);
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  // Idle for longer than the eviction age (driven by sample time): the key is
  // deleted; a fresh child with the same name then counts from zero again. Had
  // the key stayed in the kernel map, its next read (107) would be taken as
  // all new and the total below would be 207.
  const uint64_t evicted_before = probe.evicted_keys();
  ASSERT_TRUE(probe.Collect(t0 + absl::Seconds(61), acc).ok());
  EXPECT_GT(probe.evicted_keys(), evicted_before);
  RunChild(Name("_ev").c_str(), 7);
  ASSERT_TRUE(probe.Collect(t0 + absl::Seconds(62), acc).ok());
  std::vector<v1::Point> points = acc.Flush(t0 + absl::Seconds(70));
  EXPECT_EQ(CountFor(points, Name("_ev"), "getppid"), 107u);
  EXPECT_EQ(probe.eviction_errors(), 0u);
  EXPECT_EQ(probe.status().state(), v1::ProbeState::ATTACHED);
}

INSTANTIATE_TEST_SUITE_P(LookupAndDeleteOrFallback, SyscallsProbeBpfEvictionTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "LookupThenDelete" : "LookupAndDelete";
                         });

TEST(SyscallsProbeBpfDropsTest, AFullMapCountsDrops) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  // Room for two (comm, syscall) pairs, and no cell table in front of the
  // map: the busy machine fills it at once.
  SyscallsProbe probe({.max_keys = 2, .count_cells = 0});
  absl::Status s = probe.Init();
  if (absl::IsPermissionDenied(s)) GTEST_SKIP() << s.message() << "; run as root";
  ASSERT_TRUE(s.ok()) << s;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, Name("_dr").c_str(), 0, 0, 0);
    for (int i = 0; i < 100; ++i) syscall(SYS_getppid);
    for (int i = 0; i < 100; ++i) syscall(SYS_getpid);
    for (int i = 0; i < 100; ++i) syscall(SYS_gettid);
    _exit(0);
  }
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  WindowAccumulator acc(absl::Seconds(1), {});
  ASSERT_TRUE(probe.Collect(absl::Now(), acc).ok());
  EXPECT_GE(probe.status().drops(), 100u);
}

// The syscall_latency_ns buckets of (comm, syscall), merged over all points.
std::map<int, uint64_t> LatencyBuckets(const std::vector<v1::Point>& points, absl::string_view comm,
                                       absl::string_view syscall) {
  std::map<int, uint64_t> buckets;
  for (const v1::Point& p : points) {
    if (p.series().metric() != "syscall_latency_ns" || LabelValue(p.series(), "comm") != comm ||
        LabelValue(p.series(), "syscall") != syscall) {
      continue;
    }
    EXPECT_TRUE(p.value().has_distribution());
    for (const auto& [index, n] : value_test::BucketMap(p.value().distribution())) {
      buckets[index] += n;
    }
  }
  return buckets;
}

constexpr int kSleeps = 20;

// Runs a child named `comm` that makes exactly kSleeps nanosleep(1 ms) calls
// (the raw syscall: glibc's nanosleep() calls clock_nanosleep), and reaps it.
void RunSleeper(const char* comm) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, comm, 0, 0, 0);
    const timespec ms = {0, 1000000};
    for (int i = 0; i < kSleeps; ++i) syscall(SYS_nanosleep, &ms, nullptr);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

// Entry times in task storage (where the kernel allows it) or, forced, in the
// thread-id hash that older kernels need.
class SyscallsProbeBpfLatencyTest : public ::testing::TestWithParam<bool> {};

TEST_P(SyscallsProbeBpfLatencyTest, NanosleepsAreTimedExactlyOnceEach) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  InstallLibbpfLogger();
  SyscallsProbe probe({.force_start_hash = GetParam()});
  absl::Status s = probe.Init();
  if (absl::IsPermissionDenied(s)) GTEST_SKIP() << s.message() << "; run as root";
  ASSERT_TRUE(s.ok()) << s;
  std::cerr << "entry times in " << (probe.uses_task_storage() ? "task storage" : "a tid hash")
            << "\n";
  if (GetParam()) {
    EXPECT_FALSE(probe.uses_task_storage());
  }
  EXPECT_EQ(probe.status().attach_point(), "raw_tracepoint:sys_enter,raw_tracepoint:sys_exit");

  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  const std::string comm_name = GetParam() ? Name("_nsh") : Name("_nst");
  const char* comm = comm_name.c_str();
  RunSleeper(comm);
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  ASSERT_TRUE(probe.Collect(t0, acc).ok());  // nothing new: adds nothing
  std::vector<v1::Point> points = acc.Flush(t0 + absl::Seconds(2));

  std::map<int, uint64_t> buckets = LatencyBuckets(points, comm, "nanosleep");
  uint64_t count = 0;
  for (const auto& [index, n] : buckets) count += n;
  EXPECT_EQ(count, static_cast<uint64_t>(kSleeps));
  EXPECT_EQ(CountFor(points, comm, "nanosleep"), static_cast<uint64_t>(kSleeps));
  // The median at its bucket's midpoint (within 0.4 %): a 1 ms sleep never
  // returns early, and lateness is scheduler slack.
  uint64_t seen = 0;
  double p50 = 0;
  for (const auto& [index, n] : buckets) {
    seen += n;
    if (2 * seen >= count) {
      const BucketBounds b = LogLinearBucketBounds(index);
      p50 = (static_cast<double>(b.lower) + static_cast<double>(b.upper)) / 2;
      break;
    }
  }
  std::cerr << "nanosleep(1 ms) p50 " << p50 << " ns over " << count << " calls\n";
  EXPECT_GE(p50, 1e6);
  EXPECT_EQ(probe.status().drops(), 0u);
}

INSTANTIATE_TEST_SUITE_P(TaskStorageOrHash, SyscallsProbeBpfLatencyTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "TidHash" : "TaskStorage";
                         });

// Cell tables of two cells per CPU, which the busy machine fills at once:
// nearly every key takes the per-CPU hashes, and counts stay exact.
TEST(SyscallsProbeBpfCellsTest, KeysThatFindNoCellAreCountedExactlyInTheHashes) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  SyscallsProbe probe({.count_cells = 2, .latency_cells = 2});
  absl::Status s = probe.Init();
  if (absl::IsPermissionDenied(s)) GTEST_SKIP() << s.message() << "; run as root";
  ASSERT_TRUE(s.ok()) << s;
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  RunSleeper(Name("_nsc").c_str());
  RunChild(Name("_gpc").c_str(), kCalls);
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  ASSERT_TRUE(probe.Collect(t0, acc).ok());  // nothing new: adds nothing
  std::vector<v1::Point> points = acc.Flush(t0 + absl::Seconds(2));
  EXPECT_EQ(CountFor(points, Name("_nsc"), "nanosleep"), static_cast<uint64_t>(kSleeps));
  EXPECT_EQ(CountFor(points, Name("_gpc"), "getppid"), static_cast<uint64_t>(kCalls));
  uint64_t timed = 0;
  for (const auto& [index, n] : LatencyBuckets(points, Name("_nsc"), "nanosleep")) timed += n;
  EXPECT_EQ(timed, static_cast<uint64_t>(kSleeps));
  EXPECT_EQ(probe.status().drops(), 0u);
}

TEST(SyscallsProbeBpfLatencyOffTest, CountsOnlyAndAttachesOnlySysEnter) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  SyscallsProbe probe({.latency = false});
  absl::Status s = probe.Init();
  if (absl::IsPermissionDenied(s)) GTEST_SKIP() << s.message() << "; run as root";
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(probe.status().attach_point(), "raw_tracepoint:sys_enter");
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  RunSleeper(Name("_nso").c_str());
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  std::vector<v1::Point> points = acc.Flush(t0 + absl::Seconds(2));
  EXPECT_EQ(CountFor(points, Name("_nso"), "nanosleep"), static_cast<uint64_t>(kSleeps));
  for (const v1::Point& p : points) {
    EXPECT_NE(p.series().metric(), "syscall_latency_ns");
  }
}

}  // namespace
}  // namespace andon::agent
