#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace andon::testing {

// A child process that the test owns: started with stdout and stderr
// appended to a log file, and killed (SIGKILL) when the object dies if it is
// still running. Move-only. Not thread-safe.
class Subprocess {
 public:
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // True while the child has not exited. Reaps it if it has.
  bool Running();
  // Waits up to `timeout` for the child to exit; returns its exit status as
  // from waitpid, or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Sends `sig`, waits up to `timeout`, then SIGKILLs. Returns the wait status.
  int Stop(int sig, absl::Duration timeout);
  // The log's contents so far.
  std::string Log() const;

 private:
  Subprocess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string log_path_;
};

}  // namespace andon::testing
