#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/storm.h"

namespace andon::bench {

// The uprobe workload (uprobe_target.c) as a child process on the caller's
// CPU pinning, driven over pipes: Run(n) makes it call its hot function n
// times and returns that batch's timing. Closed (end of input) and reaped on
// destruction, killed if it does not exit. Not thread-safe.
class HotLoopChild {
 public:
  static constexpr char kFunction[] = "andon_bench_hot";

  static absl::StatusOr<std::unique_ptr<HotLoopChild>> Start(const std::string& binary);
  ~HotLoopChild();
  HotLoopChild(const HotLoopChild&) = delete;
  HotLoopChild& operator=(const HotLoopChild&) = delete;

  pid_t pid() const { return pid_; }
  // n calls of kFunction, timed by the child (its own process CPU time).
  absl::StatusOr<Round> Run(int64_t n);

  // `rounds` timed batches of `calls` after an untimed warm-up of calls/10,
  // appended to `out`. Returns the calls made, warm-up included.
  absl::StatusOr<int64_t> RunRounds(int64_t calls, int rounds, Rounds& out);

 private:
  HotLoopChild(pid_t pid, FILE* to, FILE* from) : pid_(pid), to_(to), from_(from) {}

  pid_t pid_;
  FILE* to_;    // its stdin
  FILE* from_;  // its stdout
};

}  // namespace andon::bench
