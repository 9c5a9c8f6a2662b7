// Syscall probe overhead: what Andon's `syscalls` probe adds to every system
// call, against bpftrace counting the same thing. One thread pinned to one
// CPU times tight loops of syscall(SYS_getppid) in three modes, interleaved
// to spread drift over all of them:
//   baseline, andon, baseline, bpftrace, ... , baseline
// - andon: SyscallsProbe loaded in this process through andon_agent, with a
//   collect thread reading it once per second as the agent's collect loop does;
//   its getppid count for the loop's comm must equal the calls made.
// - bpftrace: a child running `@[comm, args->id] = count()` on
//   tracepoint:raw_syscalls:sys_enter (bpftrace 0.17 has no rawtracepoint
//   probe type); its map dump on exit is read only to check its count.
// Prints the median ns per call of each mode as a markdown table.

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/syscalls/syscalls_probe.h"
#include "agent/window.h"
#include "common/series_key.h"

ABSL_FLAG(int64_t, calls, 1000000, "getppid calls per timed round");
ABSL_FLAG(int, rounds, 5, "timed rounds per phase (one phase = one mode, attached once)");
ABSL_FLAG(int, cycles, 3, "cycles of baseline/andon/baseline/bpftrace phases");
ABSL_FLAG(int, cpu, -1, "CPU to pin the timed loop to; -1 = the last allowed CPU");
ABSL_FLAG(std::string, bpftrace, "bpftrace", "bpftrace binary (looked up in PATH); empty = skip");
ABSL_FLAG(absl::Duration, budget, absl::Seconds(60),
          "start no further cycle once the run is projected to exceed this");

namespace andon::bench {
namespace {

// The timed loop's thread name: the (comm, syscall) key both probes count.
constexpr char kLoopComm[] = "andon_sc_bench";
constexpr char kCollectComm[] = "andon_sc_coll";
constexpr char kBpftraceScript[] =
    "tracepoint:raw_syscalls:sys_enter { @[comm, args->id] = count(); }";
// Time for a just-attached bpftrace to settle before the loop starts.
constexpr absl::Duration kSettle = absl::Milliseconds(500);

using Samples = std::vector<double>;  // ns per call, one per round

double Median(Samples s) {
  if (s.empty()) return 0;
  std::sort(s.begin(), s.end());
  size_t m = s.size() / 2;
  return s.size() % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Makes the calling thread run only on `cpu`.
absl::Status PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot pin to CPU ", cpu));
  }
  return absl::OkStatus();
}

// Moves the calling thread (or a child before exec) off the timed CPU, so the
// helpers' work does not land between the loop's syscalls. A no-op on one CPU.
void AvoidCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const long ncpus = sysconf(_SC_NPROCESSORS_CONF);
  for (int c = 0; c < CPU_SETSIZE && c < ncpus; ++c) {
    if (c != cpu) CPU_SET(c, &set);
  }
  if (CPU_COUNT(&set) > 0) sched_setaffinity(0, sizeof(set), &set);
}

void CallGetppid(int64_t n) {
  for (int64_t i = 0; i < n; ++i) syscall(SYS_getppid);
}

// Runs `rounds` timed loops of `calls` getppid after one short untimed warm-up
// (which also makes the probes insert their map key outside the timing).
// Returns the calls made, warm-up included.
int64_t RunRounds(int64_t calls, int rounds, Samples& out) {
  int64_t warmup = std::max<int64_t>(calls / 10, 1);
  CallGetppid(warmup);
  for (int r = 0; r < rounds; ++r) {
    auto start = std::chrono::steady_clock::now();  // CLOCK_MONOTONIC
    CallGetppid(calls);
    auto end = std::chrono::steady_clock::now();
    out.push_back(std::chrono::duration<double, std::nano>(end - start).count() / calls);
  }
  return warmup + static_cast<int64_t>(rounds) * calls;
}

// Andon phase: the probe lives on a collect thread, as in the agent (Init,
// Collect once per second, a last Collect, Stop), while this thread times the
// loop. Returns the probe's getppid count for kLoopComm against the calls made.
struct AndonResult {
  uint64_t counted = 0;
  int64_t made = 0;
};
absl::StatusOr<AndonResult> RunAndonPhase(int64_t calls, int rounds, int cpu, Samples& out) {
  agent::SyscallsProbe probe;
  absl::Status init = probe.Init();
  if (!init.ok()) return init;
  agent::WindowAccumulator acc(absl::Seconds(1), {});
  absl::Status collect_status;
  absl::Notification done;
  std::thread collector([&] {
    pthread_setname_np(pthread_self(), kCollectComm);
    AvoidCpu(cpu);
    while (!done.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      absl::Status s = probe.Collect(absl::Now(), acc);
      if (!s.ok() && collect_status.ok()) collect_status = s;
    }
  });
  AndonResult result;
  result.made = RunRounds(calls, rounds, out);
  done.Notify();
  collector.join();
  if (!collect_status.ok()) return collect_status;
  absl::Time now = absl::Now();
  absl::Status last = probe.Collect(now, acc);
  if (!last.ok()) return last;
  for (const v1::Point& p : acc.Flush(now + absl::Hours(1))) {
    if (p.series().metric() == "syscalls" && LabelValue(p.series(), "comm") == kLoopComm &&
        LabelValue(p.series(), "syscall") == "getppid") {
      result.counted += p.value().counter();
    }
  }
  probe.Stop();
  return result;
}

// A bpftrace child whose stdout and stderr come back through a pipe. Killed
// (SIGKILL) and reaped on destruction if still running. Not thread-safe.
class BpftraceChild {
 public:
  static absl::StatusOr<std::unique_ptr<BpftraceChild>> Start(const std::string& binary,
                                                              int avoid_cpu) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
    pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      return absl::InternalError("fork failed");
    }
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
      AvoidCpu(avoid_cpu);
      execlp(binary.c_str(), binary.c_str(), "-e", kBpftraceScript, static_cast<char*>(nullptr));
      dprintf(STDERR_FILENO, "exec %s failed\n", binary.c_str());
      _exit(127);
    }
    close(fds[1]);
    return std::unique_ptr<BpftraceChild>(new BpftraceChild(pid, fds[0]));
  }

  BpftraceChild(const BpftraceChild&) = delete;
  BpftraceChild& operator=(const BpftraceChild&) = delete;
  ~BpftraceChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
  }

  // Waits until bpftrace says "Attaching", then lets it settle. Fails with its
  // output if it exits or says nothing of the kind within `timeout`.
  absl::Status WaitAttached(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(output_, "Attaching")) {
      if (!ReadSome(deadline)) {
        std::vector<absl::string_view> lines =
            absl::StrSplit(output_, '\n', absl::SkipWhitespace());
        return absl::UnavailableError(
            absl::StrCat("bpftrace did not attach: ", absl::StrJoin(lines, " / ")));
      }
    }
    absl::SleepFor(kSettle);
    return absl::OkStatus();
  }

  // Sends SIGINT, reads everything bpftrace prints until it exits (its map
  // dump), reaps it and returns the output.
  std::string Stop(absl::Duration timeout) {
    kill(pid_, SIGINT);
    absl::Time deadline = absl::Now() + timeout;
    while (ReadSome(deadline)) {
    }
    kill(pid_, SIGKILL);  // a no-op unless it outlived the timeout
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return output_;
  }

 private:
  BpftraceChild(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  // Appends what the pipe holds to output_; false on EOF or at the deadline.
  bool ReadSome(absl::Time deadline) {
    int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1000))) < 0) return false;
    if (p.revents == 0) return true;  // nothing yet; the caller checks the deadline
    char buf[4096];
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_;
  int fd_;
  std::string output_;
};

// The count bpftrace printed for `@[kLoopComm, SYS_getppid]`, if any.
std::optional<uint64_t> BpftraceCount(const std::string& dump) {
  std::string prefix = absl::StrCat("@[", kLoopComm, ", ", SYS_getppid, "]: ");
  for (absl::string_view line : absl::StrSplit(dump, '\n')) {
    uint64_t n = 0;
    if (absl::ConsumePrefix(&line, prefix) && absl::SimpleAtoi(line, &n)) return n;
  }
  return std::nullopt;
}

// First line of `cmd`'s output, or empty.
std::string FirstLine(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(popen(cmd.c_str(), "r"), pclose);
  if (!f) return "";
  char buf[256] = {};
  if (!fgets(buf, sizeof(buf), f.get())) return "";
  return std::string(absl::StripAsciiWhitespace(buf));
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "model name")) {
      return std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
    }
  }
  return "unknown";
}

int LastAllowedCpu() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return 0;
}

int Run() {
  const int64_t calls = absl::GetFlag(FLAGS_calls);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int cycles = absl::GetFlag(FLAGS_cycles);
  const absl::Duration budget = absl::GetFlag(FLAGS_budget);
  const std::string bpftrace_bin = absl::GetFlag(FLAGS_bpftrace);
  const int cpu = absl::GetFlag(FLAGS_cpu) >= 0 ? absl::GetFlag(FLAGS_cpu) : LastAllowedCpu();
  if (calls <= 0 || rounds <= 0 || cycles <= 0) {
    std::fprintf(stderr, "--calls, --rounds and --cycles must be positive\n");
    return 1;
  }
  if (absl::Status s = PinTo(cpu); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  prctl(PR_SET_NAME, kLoopComm, 0, 0, 0);
  agent::InstallLibbpfLogger();

  utsname uts = {};
  uname(&uts);
  std::string bpftrace_version;
  if (!bpftrace_bin.empty()) {
    bpftrace_version = FirstLine(absl::StrCat(bpftrace_bin, " --version 2>/dev/null"));
  }
  std::printf(
      "syscall_probe_bench: syscall(SYS_getppid) x %lld per round, %d rounds per phase, "
      "up to %d cycles, loop pinned to CPU %d  \n",
      static_cast<long long>(calls), rounds, cycles, cpu);
  std::printf("machine: %ld CPUs, %s, kernel %s  \n", sysconf(_SC_NPROCESSORS_ONLN),
              CpuModel().c_str(), uts.release);

  std::optional<std::string> andon_skip, bpftrace_skip;
  if (bpftrace_version.empty()) {
    bpftrace_skip = bpftrace_bin.empty() ? "disabled by --bpftrace=\"\""
                                         : absl::StrCat(bpftrace_bin, " not found");
  }
  Samples baseline, andon, bpftrace;
  uint64_t andon_counted = 0, bpftrace_counted = 0;
  int64_t andon_made = 0, bpftrace_made = 0;
  bool bpftrace_count_seen = true;

  const absl::Time start = absl::Now();
  int cycles_run = 0;
  for (; cycles_run < cycles; ++cycles_run) {
    absl::Duration elapsed = absl::Now() - start;
    if (cycles_run > 0 && elapsed + elapsed / cycles_run > budget) break;

    RunRounds(calls, rounds, baseline);
    if (!andon_skip) {
      absl::StatusOr<AndonResult> r = RunAndonPhase(calls, rounds, cpu, andon);
      if (r.ok()) {
        andon_counted += r->counted;
        andon_made += r->made;
      } else {
        andon_skip = absl::StrCat("Andon probe failed: ", r.status().ToString());
      }
    }
    RunRounds(calls, rounds, baseline);
    if (!bpftrace_skip) {
      auto child = BpftraceChild::Start(bpftrace_bin, cpu);
      absl::Status attached =
          child.ok() ? (*child)->WaitAttached(absl::Seconds(20)) : child.status();
      if (attached.ok()) {
        bpftrace_made += RunRounds(calls, rounds, bpftrace);
        std::optional<uint64_t> n = BpftraceCount((*child)->Stop(absl::Seconds(10)));
        if (n) bpftrace_counted += *n;
        bpftrace_count_seen = bpftrace_count_seen && n.has_value();
      } else {
        bpftrace_skip = std::string(attached.message());
        if (absl::StrContains(*bpftrace_skip, "tracepoint not found")) {
          *bpftrace_skip += " (is tracefs mounted? mount -t tracefs tracefs /sys/kernel/tracing)";
        }
      }
    }
  }
  RunRounds(calls, rounds, baseline);  // closes the interleaving

  std::printf("cycles run: %d in %.1f s  \n", cycles_run,
              absl::ToDoubleSeconds(absl::Now() - start));
  if (andon_skip) {
    std::printf("andon: skipped: %s  \n", andon_skip->c_str());
  } else {
    std::printf("andon check: counted %llu getppid for comm %s, made %lld: %s  \n",
                static_cast<unsigned long long>(andon_counted), kLoopComm,
                static_cast<long long>(andon_made),
                andon_counted == static_cast<uint64_t>(andon_made) ? "ok" : "MISMATCH");
  }
  if (bpftrace_skip) {
    std::printf("bpftrace: skipped: %s  \n", bpftrace_skip->c_str());
  } else if (!bpftrace_count_seen) {
    std::printf("bpftrace check: no count for comm %s in its map dump  \n", kLoopComm);
  } else {
    std::printf("bpftrace check: counted %llu getppid for comm %s, made %lld: %s  \n",
                static_cast<unsigned long long>(bpftrace_counted), kLoopComm,
                static_cast<long long>(bpftrace_made),
                bpftrace_counted == static_cast<uint64_t>(bpftrace_made) ? "ok" : "MISMATCH");
  }

  const double base = Median(baseline);
  const bool have_andon = !andon.empty(), have_bpftrace = !bpftrace.empty();
  const double bpftrace_overhead = have_bpftrace ? Median(bpftrace) - base : 0;
  auto ratio = [&](double overhead) {
    return have_bpftrace && bpftrace_overhead > 0
               ? absl::StrFormat("%.2f", overhead / bpftrace_overhead)
               : std::string("n/a");
  };
  auto spread = [](const Samples& s) {
    return absl::StrFormat("%.1f-%.1f", *std::min_element(s.begin(), s.end()),
                           *std::max_element(s.begin(), s.end()));
  };
  std::printf(
      "\n| mode | ns/call (median) | overhead vs baseline ns | ratio vs bpftrace overhead |\n");
  std::printf("|---|---|---|---|\n");
  std::printf("| baseline (no probe) | %.1f | 0 | - |\n", base);
  if (have_andon) {
    double m = Median(andon);
    std::printf(
        "| andon SyscallsProbe (raw_tracepoint/sys_enter, per-CPU hash) | %.1f | %.1f | %s |\n", m,
        m - base, ratio(m - base).c_str());
  }
  if (have_bpftrace) {
    double m = Median(bpftrace);
    std::printf("| %s (tracepoint:raw_syscalls:sys_enter, count()) | %.1f | %.1f | %s |\n",
                bpftrace_version.c_str(), m, m - base, ratio(m - base).c_str());
  }
  std::printf("\nPer-round range, ns/call: baseline %s (%zu rounds)", spread(baseline).c_str(),
              baseline.size());
  if (have_andon) std::printf("; andon %s (%zu)", spread(andon).c_str(), andon.size());
  if (have_bpftrace) std::printf("; bpftrace %s (%zu)", spread(bpftrace).c_str(), bpftrace.size());
  std::printf(".\n");
  return 0;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
