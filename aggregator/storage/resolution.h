#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace andon::aggregator {

// The resolutions the store keeps every series at. Raw windows are stored as
// they arrive (each with its own width, which divides 10 s); each raw window
// is also merged into the one 10 s, 1 min and 1 h window that holds it, so a
// long range is read from few coarse windows. Each level has its own
// retention; expired windows are dropped by RocksDB's compactions.
enum class Level : uint8_t { kRaw = 0, k10s = 1, k1m = 2, k1h = 3 };
inline constexpr int kLevelCount = 4;
inline constexpr std::array<Level, kLevelCount> kLevels = {Level::kRaw, Level::k10s, Level::k1m,
                                                           Level::k1h};
// The coarsest raw window: every raw window divides it, so it falls inside
// exactly one window of each coarser level.
inline constexpr int64_t kMaxRawWindowNs = int64_t{10} * 1000 * 1000 * 1000;

// The width of a level's windows; 0 for raw (each window has its own).
int64_t LevelWidthNs(Level level);
// "raw", "10s", "1m", "1h".
const char* LevelName(Level level);

// How long each level is kept. The defaults suit a leaf of a 10,000-host
// fleet (about 500,000 series): see the README's "Storage" section.
struct Retention {
  absl::Duration raw = absl::Hours(2);
  absl::Duration ten_seconds = absl::Hours(48);
  absl::Duration one_minute = absl::Hours(24 * 14);
  absl::Duration one_hour = absl::Hours(24 * 400);

  absl::Duration For(Level level) const;
  // Fails, naming the level, unless each level is kept at least as long as
  // the finer one before it and at least as long as one of its windows.
  absl::Status Check() const;
};

// Parses "raw=2h,10s=48h,1m=14d,1h=400d" (any subset; days as "d") over the
// defaults.
absl::StatusOr<Retention> ParseRetention(const std::string& spec);
std::string RetentionToString(const Retention& retention);

// Which level answers a query over [start_ns, end_ns) in buckets of step_ns,
// made at now_ns.
struct LevelChoice {
  Level level = Level::kRaw;
  // Set when the answer is coarser than asked: the range starts before the
  // retention of every level that fits the buckets exactly.
  std::string warning;
};

// The coarsest level whose windows tile the buckets exactly (its width
// divides the step, the start and the end) and whose retention still covers
// start_ns. When none that fits is kept that far back, the finest level that
// is kept that far back, with a warning; when none is, the coarsest.
LevelChoice ChooseLevel(int64_t start_ns, int64_t end_ns, int64_t step_ns, int64_t now_ns,
                        const Retention& retention);

}  // namespace andon::aggregator
