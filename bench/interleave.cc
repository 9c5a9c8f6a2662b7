#include "bench/interleave.h"

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace andon::bench {
namespace {

std::vector<double> Wall(const Rounds& r) {
  std::vector<double> v;
  for (const Round& x : r) v.push_back(x.wall_ns);
  return v;
}
std::vector<double> Cpu(const Rounds& r) {
  std::vector<double> v;
  for (const Round& x : r) v.push_back(x.cpu_ns);
  return v;
}

}  // namespace

double ModeResult::MedianWall() const { return Median(Wall(rounds)); }
double ModeResult::MedianCpu() const { return Median(Cpu(rounds)); }

absl::StatusOr<InterleavedResult> RunInterleaved(const std::function<absl::Status(Rounds&)>& base,
                                                 std::vector<Mode> modes, int cycles,
                                                 absl::Duration budget) {
  InterleavedResult result;
  for (const Mode& m : modes) {
    ModeResult r;
    r.name = m.name;
    r.skipped = m.skip;
    result.modes.push_back(std::move(r));
  }
  const absl::Time start = absl::Now();
  Rounds before;
  ANDON_RETURN_IF_ERROR(base(before));
  result.baseline = before;
  const size_t n = modes.size();
  for (int c = 0; c < cycles; ++c) {
    const absl::Duration elapsed = absl::Now() - start;
    if (c > 0 && elapsed + elapsed / c > budget) break;
    ++result.cycles_run;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (c + k) % n;
      ModeResult& r = result.modes[i];
      if (r.skipped) continue;
      Rounds phase;
      absl::StatusOr<PhaseOutcome> outcome = modes[i].run(phase);
      if (!outcome.ok()) {
        r.skipped = std::string(outcome.status().message());
        continue;
      }
      Rounds after;
      ANDON_RETURN_IF_ERROR(base(after));
      result.baseline.insert(result.baseline.end(), after.begin(), after.end());
      const double wall_base = (Median(Wall(before)) + Median(Wall(after))) / 2;
      const double cpu_base = (Median(Cpu(before)) + Median(Cpu(after))) / 2;
      r.wall_added.push_back(Median(Wall(phase)) - wall_base);
      r.cpu_added.push_back(Median(Cpu(phase)) - cpu_base);
      r.rounds.insert(r.rounds.end(), phase.begin(), phase.end());
      for (const auto& [what, check] : outcome->checks) {
        Check& sum = r.checks[what];
        sum.counted += check.counted;
        sum.made += check.made;
        sum.at_least = check.at_least;
      }
      r.probe_cpu_ns += outcome->probe_cpu_ns;
      r.attached_s += outcome->attached_s;
      if (!outcome->note.empty()) r.note = outcome->note;
      before = std::move(after);
    }
  }
  result.baseline_wall = Median(Wall(result.baseline));
  result.baseline_cpu = Median(Cpu(result.baseline));
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace andon::bench
