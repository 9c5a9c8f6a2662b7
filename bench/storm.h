#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace andon::bench {

// One timed round of a hot loop: ns per call by the wall clock and by the CPU
// time charged to the thread (or process) making the calls. A probe's BPF
// program runs in the caller's context, so its cost lands in the CPU time,
// which other tenants of a shared machine do not inflate.
struct Round {
  double wall_ns = 0;
  double cpu_ns = 0;
};
using Rounds = std::vector<Round>;

// Makes the calling thread run only on `cpu`; threads and children it creates
// afterwards inherit that.
absl::Status PinTo(int cpu);
// Moves the calling thread (or a child before exec) off `cpu`, so helpers do
// not run between the timed loop's calls. A no-op on a one-CPU machine.
void AvoidCpu(int cpu);
// The highest-numbered CPU this thread may run on.
int LastAllowedCpu();

// CPU time the calling thread has used (user + system), in ns.
int64_t ThreadCpuNs();

// Runs `rounds` timed loops of `calls` syscall(SYS_getppid), after an untimed
// warm-up of calls/10 (which also lets probes insert their map keys outside
// the timing), appending one Round each to `out`. Returns the calls made,
// warm-up included.
int64_t GetppidRounds(int64_t calls, int rounds, Rounds& out);

// Calls getppid for `duration`; returns the calls made and, in `cpu_ns`, the
// thread's CPU time over them.
int64_t GetppidFor(absl::Duration duration, int64_t* cpu_ns);

double Median(std::vector<double> values);

}  // namespace andon::bench
