#include "bench/hot_loop_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace andon::bench {

absl::StatusOr<std::unique_ptr<HotLoopChild>> HotLoopChild::Start(const std::string& binary) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return absl::InternalError("pipe2 failed");
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(binary.c_str(), binary.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return std::unique_ptr<HotLoopChild>(
      new HotLoopChild(pid, fdopen(in[1], "w"), fdopen(out[0], "r")));
}

HotLoopChild::~HotLoopChild() {
  fclose(to_);  // end of input: the child exits
  fclose(from_);
  for (int i = 0; i < 100; ++i) {  // up to 1 s
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    usleep(10000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

absl::StatusOr<Round> HotLoopChild::Run(int64_t n) {
  if (fprintf(to_, "%lld\n", static_cast<long long>(n)) < 0 || fflush(to_) != 0) {
    return absl::InternalError("cannot write to the uprobe target: did it exit?");
  }
  long long wall = 0, cpu = 0;
  if (fscanf(from_, "%lld %lld", &wall, &cpu) != 2) {
    return absl::InternalError("no timing from the uprobe target: did it exit?");
  }
  return Round{static_cast<double>(wall) / n, static_cast<double>(cpu) / n};
}

absl::StatusOr<int64_t> HotLoopChild::RunRounds(int64_t calls, int rounds, Rounds& out) {
  const int64_t warmup = std::max<int64_t>(calls / 10, 1);
  absl::StatusOr<Round> w = Run(warmup);
  if (!w.ok()) return w.status();
  for (int r = 0; r < rounds; ++r) {
    absl::StatusOr<Round> round = Run(calls);
    if (!round.ok()) return round.status();
    out.push_back(*round);
  }
  return warmup + static_cast<int64_t>(rounds) * calls;
}

}  // namespace andon::bench
