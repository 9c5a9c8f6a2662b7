#include "bench/bpftrace_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/storm.h"

namespace andon::bench {
namespace {

// Time for a just-attached bpftrace to settle before the loop starts.
constexpr absl::Duration kSettle = absl::Milliseconds(500);

}  // namespace

absl::StatusOr<std::unique_ptr<BpftraceChild>> BpftraceChild::Start(const std::string& binary,
                                                                    const std::string& script,
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
    execlp(binary.c_str(), binary.c_str(), "-e", script.c_str(), static_cast<char*>(nullptr));
    dprintf(STDERR_FILENO, "exec %s failed\n", binary.c_str());
    _exit(127);
  }
  close(fds[1]);
  return std::unique_ptr<BpftraceChild>(new BpftraceChild(pid, fds[0]));
}

BpftraceChild::~BpftraceChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  close(fd_);
}

absl::Status BpftraceChild::WaitAttached(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!absl::StrContains(output_, "Attaching")) {
    if (!ReadSome(deadline)) {
      std::vector<absl::string_view> lines = absl::StrSplit(output_, '\n', absl::SkipWhitespace());
      std::string why = absl::StrCat("bpftrace did not attach: ", absl::StrJoin(lines, " / "));
      if (absl::StrContains(why, "tracepoint not found")) {
        absl::StrAppend(&why,
                        " (is tracefs mounted? mount -t tracefs tracefs /sys/kernel/tracing)");
      }
      return absl::UnavailableError(why);
    }
  }
  absl::SleepFor(kSettle);
  return absl::OkStatus();
}

std::string BpftraceChild::Stop(absl::Duration timeout) {
  kill(pid_, SIGINT);
  const absl::Time deadline = absl::Now() + timeout;
  while (ReadSome(deadline)) {
  }
  kill(pid_, SIGKILL);  // a no-op unless it outlived the timeout
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return output_;
}

bool BpftraceChild::ReadSome(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (ms <= 0) return false;
  pollfd p = {fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1000))) < 0) return false;
  if (p.revents == 0) return true;  // nothing yet; the caller checks the deadline
  char buf[4096];
  const ssize_t n = read(fd_, buf, sizeof(buf));
  if (n <= 0) return false;
  output_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string BpftraceChild::Version(const std::string& binary) {
  if (binary.empty()) return "";
  const std::string cmd = absl::StrCat(binary, " --version 2>/dev/null");
  std::unique_ptr<FILE, int (*)(FILE*)> f(popen(cmd.c_str(), "r"), pclose);
  if (!f) return "";
  char buf[256] = {};
  if (!fgets(buf, sizeof(buf), f.get())) return "";
  return std::string(absl::StripAsciiWhitespace(buf));
}

std::optional<uint64_t> BpftraceMapValue(absl::string_view dump, absl::string_view key) {
  const std::string prefix = absl::StrCat(key, ": ");
  for (absl::string_view line : absl::StrSplit(dump, '\n')) {
    uint64_t n = 0;
    if (absl::ConsumePrefix(&line, prefix) &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n)) {
      return n;
    }
  }
  return std::nullopt;
}

}  // namespace andon::bench
