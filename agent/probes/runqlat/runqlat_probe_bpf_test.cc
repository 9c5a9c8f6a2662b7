// Needs root and a kernel with BTF: loads the real probe.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "agent/bpf/libbpf_status.h"
#include "agent/probes/runqlat/runqlat_probe.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

constexpr int kSleeps = 200;
constexpr char kComm[] = "andontest_rq";

// Runs a child named kComm that sleeps and wakes kSleeps times: each wakeup
// puts it on a run queue once.
void RunSleeper() {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, kComm, 0, 0, 0);
    for (int i = 0; i < kSleeps; ++i) usleep(200);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
}

struct Samples {
  uint64_t comm = 0;  // in the kComm series
  uint64_t host = 0;  // in the host series (no comm label)
  int comm_series = 0;
};

Samples Count(const std::vector<v1::Point>& points) {
  Samples s;
  for (const v1::Point& p : points) {
    if (p.series().metric() != "runq_latency_ns") continue;
    const uint64_t n = p.value().distribution().count();
    absl::string_view comm = LabelValue(p.series(), "comm");
    if (comm.empty()) {
      s.host += n;
    } else {
      ++s.comm_series;
      if (comm == kComm) s.comm += n;
    }
  }
  return s;
}

class RunqlatProbeBpfTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
      GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux: cannot run BPF tests";
    }
    if (geteuid() != 0) GTEST_SKIP() << "BPF needs root; run the bpf tests as root";
    InstallLibbpfLogger();
  }

  RunqlatProbeOptions Options(uint32_t top_comms) const {
    RunqlatProbeOptions options;
    options.top_comms = top_comms;
    if (std::string(GetParam()) == "raw_tracepoint:sched_wakeup") {
      options.attach_points = {
          {"wakeup_raw", "wakeup_new_raw", "switch_raw", "raw_tracepoint:sched_wakeup"}};
    }
    return options;
  }
};

TEST_P(RunqlatProbeBpfTest, EveryWakeupOfASleeperIsASample) {
  RunqlatProbe probe(Options(1000));
  absl::Status s = probe.Init();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(probe.status().attach_point(), GetParam());
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  acc.FlushAll();  // only what follows counts

  RunSleeper();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  Samples n = Count(acc.FlushAll());
  std::cerr << kComm << ": " << n.comm << " samples for " << kSleeps << " sleeps; host " << n.host
            << " samples in all\n";
  // A timer that fires before the sleeper is fully off its CPU wakes a task
  // that never waited on a run queue: no sample, by design. On a loaded
  // machine a few of the sleeps do that, so ask for 95 % of them.
  EXPECT_GE(n.comm * 100, static_cast<uint64_t>(kSleeps) * 95);
  EXPECT_GE(n.host, n.comm);
  EXPECT_EQ(probe.status().drops(), 0u);
  EXPECT_EQ(probe.status().budget_folded(), 0u);
}

TEST_P(RunqlatProbeBpfTest, ProcessesBeyondTopCommsCountOnlyInTheHostSeries) {
  RunqlatProbe probe(Options(0));
  absl::Status s = probe.Init();
  ASSERT_TRUE(s.ok()) << s;
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  RunSleeper();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  Samples n = Count(acc.FlushAll());
  EXPECT_EQ(n.comm_series, 0);
  EXPECT_GE(n.host, static_cast<uint64_t>(kSleeps));
  // At least the sleeper itself was folded.
  EXPECT_GE(probe.status().budget_folded(), 1u);
  EXPECT_NE(probe.status().budget_reason().find("top 0"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AttachPoints, RunqlatProbeBpfTest,
                         ::testing::Values("tp_btf:sched_wakeup", "raw_tracepoint:sched_wakeup"));

}  // namespace
}  // namespace andon::agent
