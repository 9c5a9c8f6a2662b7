// Needs root and a kernel with BTF: loads the real probe.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "absl/synchronization/notification.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/exec/exec_probe.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

constexpr int kRuns = 5;

void RunTrue() {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/true", "true", nullptr);
    _exit(127);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

TEST(ExecProbeBpfTest, CountsExecsByNewCommAndKeepsRecentEvents) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux: cannot run BPF tests";
  }
  InstallLibbpfLogger();
  ExecProbe probe;
  absl::Status s = probe.Init();
  if (absl::IsPermissionDenied(s)) {
    GTEST_SKIP() << "BPF not permitted (" << s.message() << "); run the bpf tests as root";
  }
  ASSERT_TRUE(s.ok()) << s;
  std::cerr << "exec probe attached to " << probe.attached_to() << "\n";
  EXPECT_FALSE(probe.attached_to().empty());

  for (int i = 0; i < kRuns; ++i) RunTrue();

  // The poll thread drains the ring buffer asynchronously; give it time.
  WindowAccumulator acc(absl::Seconds(1), {});
  absl::Time t0 = absl::Now();
  uint64_t execs = 0;
  for (int attempt = 0; attempt < 50 && execs < kRuns; ++attempt) {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(probe.Collect(t0, acc).ok());
    for (const v1::Point& p : acc.Flush(t0 + absl::Seconds(1))) {
      if (p.series().metric() == "execs" && LabelValue(p.series(), "comm") == "true") {
        execs += p.value().counter();
      }
    }
  }
  EXPECT_GE(execs, static_cast<uint64_t>(kRuns));

  int seen = 0;
  for (const ExecEvent& e : probe.RecentEvents()) {
    if (e.comm == "true" && e.ppid == static_cast<uint32_t>(getpid())) {
      ++seen;
      EXPECT_EQ(e.filename, "/bin/true");
      EXPECT_GT(e.pid, 0u);
    }
  }
  EXPECT_EQ(seen, kRuns);
  EXPECT_EQ(probe.status().drops(), 0u);
  probe.Stop();
  EXPECT_EQ(probe.status().state(), v1::ProbeStatus::STOPPED);
}

TEST(ExecProbeBpfTest, AMissingProgramIsAClearInternalError) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  InstallLibbpfLogger();
  // As if exec.bpf.c had been built without a program the loader expects.
  ExecProbe probe({.attach_points = {{"handle_exec_tp", "tracepoint sched/sched_process_exec"},
                                     {"no_such_program", "a renamed attach point"}}});
  absl::Status s = probe.Init();
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_EQ(s.message(),
            "BPF program 'no_such_program' (a renamed attach point) is missing from the exec BPF "
            "object");
  EXPECT_EQ(probe.status().state(), v1::ProbeStatus::FAILED);
  EXPECT_TRUE(probe.attached_to().empty());
}

}  // namespace
}  // namespace andon::agent
