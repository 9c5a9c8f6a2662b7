// Needs root and a kernel with BTF: loads the real probe.
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/exec/exec_probe.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

// A process name unique to this test process: ctest runs the tests of one
// binary in parallel processes, and each counts every process on the host.
// Fixed at start-up, so forked children (which name themselves) agree.
const std::string kNamePrefix = "t" + std::to_string(getpid() % 1000000);
std::string Name(const char* tag) { return kNamePrefix + tag; }

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
  EXPECT_EQ(probe.status().attach_point(), probe.attached_to());

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
    if (e.type == ExecEvent::Type::kExec && e.comm == "true" &&
        e.ppid == static_cast<uint32_t>(getpid())) {
      ++seen;
      EXPECT_EQ(e.filename, "/bin/true");
      EXPECT_GT(e.pid, 0u);
    }
  }
  EXPECT_EQ(seen, kRuns);
  EXPECT_EQ(probe.status().drops(), 0u);
  probe.Stop();
  EXPECT_EQ(probe.status().state(), v1::ProbeState::STOPPED);
}

TEST(ExecProbeBpfTest, AMissingProgramIsAClearInternalError) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  InstallLibbpfLogger();
  // As if exec.bpf.c had been built without a program the loader expects.
  ExecProbe probe({.attach_points = {{"handle_exec_tp", "tracepoint:sched:sched_process_exec"},
                                     {"no_such_program", "a renamed attach point"}}});
  absl::Status s = probe.Init();
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_EQ(s.message(),
            "BPF program 'no_such_program' (a renamed attach point) is missing from the exec BPF "
            "object");
  EXPECT_EQ(probe.status().state(), v1::ProbeState::FAILED);
  EXPECT_TRUE(probe.attached_to().empty());
}

// Inits `probe`, or says why the test cannot run.
absl::Status InitOrSkipReason(ExecProbe& probe) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    return absl::UnavailableError("no kernel BTF at /sys/kernel/btf/vmlinux");
  }
  InstallLibbpfLogger();
  return probe.Init();
}

// Forks a child named `comm` with a second thread, which exits the whole
// process with `code`; reaps it. Only the leader's exit may be counted.
pid_t RunExitingChild(const char* comm, int code) {
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_NAME, comm, 0, 0, 0);
    std::thread([] {
      for (;;) pause();
    }).detach();
    syscall(SYS_exit_group, code);
  }
  int wstatus = 0;
  EXPECT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == code) << wstatus;
  return child;
}

// Forks a child named `comm` that waits to be killed with SIGKILL; reaps it.
pid_t RunKilledChild(const char* comm) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_NAME, comm, 0, 0, 0);
    char c = 1;
    (void)!write(ready[1], &c, 1);
    for (;;) pause();
  }
  char c = 0;
  EXPECT_EQ(read(ready[0], &c, 1), 1);  // named now: kill it
  close(ready[0]);
  close(ready[1]);
  EXPECT_EQ(kill(child, SIGKILL), 0);
  int wstatus = 0;
  EXPECT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;
  return child;
}

// Runs a last child, Name("_end"), and collects until its exit shows up.
// The ring buffer is FIFO, so every earlier event has been counted by then.
std::map<std::pair<std::string, std::string>, uint64_t> CollectExitsUntilSentinel(
    ExecProbe& probe) {
  RunExitingChild(Name("_end").c_str(), 0);
  std::map<std::pair<std::string, std::string>, uint64_t> exits;
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  for (int attempt = 0; attempt < 100 && exits[{Name("_end"), "0"}] == 0; ++attempt) {
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_TRUE(probe.Collect(t0, acc).ok());
    for (const v1::Point& p : acc.FlushAll()) {
      if (p.series().metric() != "exits") continue;
      exits[{std::string(LabelValue(p.series(), "comm")),
             std::string(LabelValue(p.series(), "code"))}] += p.value().counter();
    }
  }
  EXPECT_EQ((exits[{Name("_end"), "0"}]), 1u) << "the sentinel's exit never arrived";
  return exits;
}

const ExecEvent* FindExit(const std::vector<ExecEvent>& events, pid_t pid) {
  const ExecEvent* found = nullptr;
  for (const ExecEvent& e : events) {
    if (e.type != ExecEvent::Type::kExit || e.pid != static_cast<uint32_t>(pid)) continue;
    EXPECT_EQ(found, nullptr) << "two exit events for pid " << pid;
    found = &e;
  }
  return found;
}

// Every exit hook, forced one at a time: the default order picks the first
// that attaches, so the fallbacks are tested here.
class ExecProbeExitBpfTest : public ::testing::TestWithParam<ExecAttachPoint> {};

TEST_P(ExecProbeExitBpfTest, CountsEachProcessExitOnceWithItsCode) {
  const ExecAttachPoint hook = GetParam();
  if (absl::string_view(hook.description).rfind("tracepoint:", 0) == 0 &&
      !std::filesystem::exists("/sys/kernel/tracing/events/sched")) {
    GTEST_SKIP() << "tracefs is not mounted at /sys/kernel/tracing: mount -t tracefs tracefs "
                    "/sys/kernel/tracing to test the classic tracepoint";
  }
  ExecProbe probe({.exit_attach_points = {hook}});
  absl::Status s = InitOrSkipReason(probe);
  if (absl::IsPermissionDenied(s) || absl::IsUnavailable(s)) GTEST_SKIP() << s.message();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_NE(probe.status().attach_point().find(hook.description), std::string::npos)
      << probe.status().attach_point();

  const absl::Time before = absl::Now();
  const pid_t exited = RunExitingChild(Name("_ex3").c_str(), 3);
  const absl::Duration exited_within = absl::Now() - before;
  const pid_t killed = RunKilledChild(Name("_kil").c_str());
  auto exits = CollectExitsUntilSentinel(probe);

  EXPECT_EQ((exits[{Name("_ex3"), "3"}]), 1u);  // the leader only, not its thread
  EXPECT_EQ((exits[{Name("_kil"), "sig9"}]), 1u);
  uint64_t any_code = 0;
  for (const auto& [comm_code, n] : exits) {
    if (comm_code.first == Name("_ex3") || comm_code.first == Name("_kil")) any_code += n;
  }
  EXPECT_EQ(any_code, 2u);

  const std::vector<ExecEvent> events = probe.RecentEvents();
  const ExecEvent* e = FindExit(events, exited);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->comm, Name("_ex3"));
  EXPECT_EQ(e->exit_code, 3);
  EXPECT_EQ(e->exit_signal, 0);
  EXPECT_EQ(e->ppid, static_cast<uint32_t>(getpid()));
  EXPECT_GT(e->lifetime, absl::ZeroDuration());
  EXPECT_LE(e->lifetime, exited_within);
  const ExecEvent* k = FindExit(events, killed);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->exit_signal, SIGKILL);
  EXPECT_EQ(k->exit_code, 0);
  EXPECT_EQ(probe.status().drops(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryHook, ExecProbeExitBpfTest,
    ::testing::Values(ExecAttachPoint{"handle_exit_tp", "tracepoint:sched:sched_process_exit"},
                      ExecAttachPoint{"handle_exit_btf", "tp_btf:sched_process_exit"},
                      ExecAttachPoint{"handle_exit_raw", "raw_tracepoint:sched_process_exit"}),
    [](const ::testing::TestParamInfo<ExecAttachPoint>& info) {
      return std::string(info.param.program).substr(strlen("handle_exit_"));
    });

TEST(ExitCodeLabelTest, ExitStatusOrSignal) {
  EXPECT_EQ(ExitCodeLabel(0), "0");
  EXPECT_EQ(ExitCodeLabel(3 << 8), "3");
  EXPECT_EQ(ExitCodeLabel(255 << 8), "255");
  EXPECT_EQ(ExitCodeLabel(9), "sig9");
  EXPECT_EQ(ExitCodeLabel(0x80 | 11), "sig11");  // core dumped
}

}  // namespace
}  // namespace andon::agent
