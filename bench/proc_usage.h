#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace andon::bench {

// CPU time a process has used so far, from /proc/PID/stat (utime, stime;
// clock-tick resolution, 10 ms here).
struct ProcCpu {
  double user_s = 0;
  double system_s = 0;
};
absl::StatusOr<ProcCpu> ReadProcCpu(pid_t pid);

// A "kB" field of /proc/PID/status (VmHWM, VmRSS, ...), in KiB.
absl::StatusOr<uint64_t> ReadProcStatusKib(pid_t pid, const std::string& field);

// user + system seconds, and resident MiB, of a process; 0 when it cannot be
// read (it exited).
double CpuSecondsOf(pid_t pid);
double RssMibOf(pid_t pid);

}  // namespace andon::bench
