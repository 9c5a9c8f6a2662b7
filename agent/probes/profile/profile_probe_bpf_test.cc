// Needs root and a kernel with BTF: loads the real probe and samples a busy
// child (andon_spin, built with frame pointers).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/profile/profile_probe.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

constexpr char kComm[] = "andon_spin";
constexpr char kSpinFunction[] = "andon_profile_spin_7f3a";
constexpr char kCallerThenSpin[] = "andon_profile_outer_7f3a;andon_profile_spin_7f3a";
constexpr uint64_t kWantedSamples = 100;

// Kills and reaps the child on scope exit.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// Runs andon_spin in `mode` ("spin" or "syscalls"); returns its pid.
pid_t StartChild(const char* mode) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(ANDON_SPIN_BINARY, kComm, mode, nullptr);
    _exit(127);
  }
  return pid;
}

struct Tally {
  uint64_t samples = 0;      // of the child's comm
  uint64_t in_function = 0;  // whose stack holds the spin function
  uint64_t unwound = 0;      // whose stack shows the caller, root first
  uint64_t in_getppid = 0;   // whose kernel frames name the getppid syscall
  std::string example;
};

void Add(const std::vector<v1::Point>& points, Tally& t) {
  for (const v1::Point& p : points) {
    if (p.series().metric() != "cpu_profile" || LabelValue(p.series(), "comm") != kComm) continue;
    ASSERT_TRUE(p.value().has_top_k());
    for (const v1::TopK::Entry& e : p.value().top_k().entries()) {
      t.samples += e.count();
      EXPECT_EQ(e.error(), 0u);
      if (absl::StrContains(e.key(), kSpinFunction)) t.in_function += e.count();
      if (absl::StrContains(e.key(), kCallerThenSpin)) t.unwound += e.count();
      if (absl::StrContains(e.key(), "sys_getppid_[k]")) t.in_getppid += e.count();
      if (t.example.empty() || e.count() > 1) t.example = e.key();
    }
  }
}

TEST(ProfileProbeBpfTest, ABusyChildSpinsInItsFunction) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux: cannot run BPF tests";
  }
  if (geteuid() != 0) GTEST_SKIP() << "BPF and perf events need root";
  InstallLibbpfLogger();
  ProfileProbe probe({.frequency_hz = 199});
  absl::Status s = probe.Init();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(probe.status().attach_point(), "perf_event:cpu-clock");

  pid_t pid = StartChild("spin");
  ASSERT_GE(pid, 0);
  Child child(pid);

  // Collect until enough samples of the child arrived (at 199 Hz, about half
  // a second of its CPU time); the child stays alive meanwhile so that its
  // maps can be read to name its frames.
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  Tally t;
  for (int attempt = 0; attempt < 300 && t.samples < kWantedSamples; ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(probe.Collect(t0, acc).ok());
    Add(acc.FlushAll(), t);
  }
  std::cerr << kComm << ": " << t.samples << " samples, " << t.in_function << " in "
            << kSpinFunction << ", " << t.unwound << " unwound to its caller; e.g. " << t.example
            << "\n";
  ASSERT_GE(t.samples, kWantedSamples);
  EXPECT_GE(t.in_function * 10, t.samples * 9);  // at least 90 %
  // Frame pointers let the unwinder reach the caller (Debian's libc below
  // it has none, so the stack ends there).
  EXPECT_GE(t.unwound * 10, t.samples * 9);
  EXPECT_GT(probe.status().events(), 0u);
}

TEST(ProfileProbeBpfTest, KernelFramesAreNamedFromKallsyms) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  if (geteuid() != 0) GTEST_SKIP() << "BPF and perf events need root";
  ProfileProbe probe({.frequency_hz = 199});
  absl::Status s = probe.Init();
  ASSERT_TRUE(s.ok()) << s;
  pid_t pid = StartChild("syscalls");
  ASSERT_GE(pid, 0);
  Child child(pid);
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  Tally t;
  for (int attempt = 0; attempt < 300 && t.in_getppid < 10; ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(probe.Collect(t0, acc).ok());
    Add(acc.FlushAll(), t);
  }
  std::cerr << kComm << " (syscalls): " << t.samples << " samples, " << t.in_getppid
            << " in getppid; e.g. " << t.example << "\n";
  EXPECT_GE(t.in_getppid, 10u);
}

TEST(ProfileProbeBpfTest, AnOutOfRangeFrequencyIsRefused) {
  ProfileProbe probe({.frequency_hz = 0});
  absl::Status s = probe.Init();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("frequency_hz"), std::string::npos);
}

}  // namespace
}  // namespace andon::agent
