#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/storm.h"

namespace andon::bench {

// One check of a probe's recording against the calls the loop made: the
// probe must have counted exactly `made` (or, for a probe that counts more
// than the loop, at least `made`).
struct Check {
  uint64_t counted = 0;
  int64_t made = 0;
  bool at_least = false;
};

// What one probe phase (attach, timed rounds, detach) reports besides its
// rounds.
struct PhaseOutcome {
  std::map<std::string, Check> checks;  // by what was checked
  int64_t probe_cpu_ns = 0;             // CPU of the probe's own user space while attached
  double attached_s = 0;                // how long it was attached
  std::string note;                     // e.g. where entry times live
};

// A way of running the hot loop with one probe attached.
struct Mode {
  std::string name;
  // Attaches, appends timed rounds to its argument, detaches.
  std::function<absl::StatusOr<PhaseOutcome>(Rounds&)> run;
  std::optional<std::string> skip;  // why it does not run, if it does not
};

// A mode's figures over all its phases.
struct ModeResult {
  std::string name;
  Rounds rounds;
  // Per phase: its median minus the mean of the medians of the baseline
  // phases just before and just after it, so drift cancels out.
  std::vector<double> wall_added, cpu_added;
  std::map<std::string, Check> checks;  // summed over phases
  int64_t probe_cpu_ns = 0;
  double attached_s = 0;
  std::string note;
  std::optional<std::string> skipped;

  double MedianWall() const;
  double MedianCpu() const;
  double WallAdded() const { return Median(wall_added); }
  double CpuAdded() const { return Median(cpu_added); }
  bool ran() const { return !cpu_added.empty(); }
};

struct InterleavedResult {
  Rounds baseline;
  double baseline_wall = 0, baseline_cpu = 0;  // medians over all rounds
  std::vector<ModeResult> modes;               // in the order given
  int cycles_run = 0;
  double seconds = 0;
};

// Runs baseline, mode, baseline, mode, ..., baseline: each cycle runs every
// mode once, starting one mode later than the previous cycle, so slow drift
// and order effects spread over all modes. A mode that fails is skipped from
// then on with its error. No cycle starts once the run is projected to
// exceed `budget`.
absl::StatusOr<InterleavedResult> RunInterleaved(const std::function<absl::Status(Rounds&)>& base,
                                                 std::vector<Mode> modes, int cycles,
                                                 absl::Duration budget);

}  // namespace andon::bench
