#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace andon::bench {

// A bpftrace child running one script (`bpftrace -e SCRIPT`) off the timed
// CPU, its stdout and stderr read back through a pipe. It dies with the
// benchmark (PR_SET_PDEATHSIG) and is killed (SIGKILL) and reaped on
// destruction if still running. Not thread-safe.
class BpftraceChild {
 public:
  static absl::StatusOr<std::unique_ptr<BpftraceChild>> Start(const std::string& binary,
                                                              const std::string& script,
                                                              int avoid_cpu);
  BpftraceChild(const BpftraceChild&) = delete;
  BpftraceChild& operator=(const BpftraceChild&) = delete;
  ~BpftraceChild();

  pid_t pid() const { return pid_; }

  // Waits until bpftrace says "Attaching", then lets it settle. Fails with its
  // output if it exits or says nothing of the kind within `timeout`.
  absl::Status WaitAttached(absl::Duration timeout);

  // Sends SIGINT, reads everything bpftrace prints until it exits (its map
  // dump), reaps it and returns the output.
  std::string Stop(absl::Duration timeout);

  // The "bpftrace vX.Y.Z" line of `binary --version`, or empty if it does not run.
  static std::string Version(const std::string& binary);

 private:
  BpftraceChild(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  // Appends what the pipe holds to output_; false on EOF or at the deadline.
  bool ReadSome(absl::Time deadline);

  pid_t pid_;
  int fd_;
  std::string output_;
};

// The value bpftrace printed for map entry `key` ("@[a, b]" or "@") in its
// exit dump, if any.
std::optional<uint64_t> BpftraceMapValue(absl::string_view dump, absl::string_view key);

}  // namespace andon::bench
