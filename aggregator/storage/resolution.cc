#include "aggregator/storage/resolution.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace andon::aggregator {
namespace {

constexpr int64_t kSecondNs = 1000 * 1000 * 1000;

absl::StatusOr<absl::Duration> ParseDays(absl::string_view text) {
  absl::Duration d;
  if (absl::ConsumeSuffix(&text, "d")) {
    int64_t days = 0;
    if (absl::SimpleAtoi(text, &days) && days > 0) return absl::Hours(24 * days);
  } else if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration()) {
    return d;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a positive duration (e.g. 90m, 48h, 14d)"));
}

std::string FormatRetention(absl::Duration d) {
  const int64_t hours = absl::ToInt64Hours(d);
  if (d == absl::Hours(hours) && hours % 24 == 0) return absl::StrCat(hours / 24, "d");
  return absl::FormatDuration(d);
}

}  // namespace

int64_t LevelWidthNs(Level level) {
  switch (level) {
    case Level::kRaw:
      return 0;
    case Level::k10s:
      return 10 * kSecondNs;
    case Level::k1m:
      return 60 * kSecondNs;
    case Level::k1h:
      return 3600 * kSecondNs;
  }
  return 0;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kRaw:
      return "raw";
    case Level::k10s:
      return "10s";
    case Level::k1m:
      return "1m";
    case Level::k1h:
      return "1h";
  }
  return "?";
}

absl::Duration Retention::For(Level level) const {
  switch (level) {
    case Level::kRaw:
      return raw;
    case Level::k10s:
      return ten_seconds;
    case Level::k1m:
      return one_minute;
    case Level::k1h:
      return one_hour;
  }
  return raw;
}

absl::Status Retention::Check() const {
  absl::Duration finer = absl::ZeroDuration();
  for (Level level : kLevels) {
    const absl::Duration keep = For(level);
    const absl::Duration width = absl::Nanoseconds(LevelWidthNs(level));
    if (keep < finer || keep < width || keep <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("retention of the ", LevelName(level), " windows (", FormatRetention(keep),
                       ") must be at least one window and at least that of the finer level (",
                       FormatRetention(finer), ")"));
    }
    finer = keep;
  }
  return absl::OkStatus();
}

absl::StatusOr<Retention> ParseRetention(const std::string& spec) {
  Retention out;
  if (spec.empty()) return out;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, '=');
    absl::string_view name = absl::StripAsciiWhitespace(kv.first);
    absl::StatusOr<absl::Duration> d = ParseDays(absl::StripAsciiWhitespace(kv.second));
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("retention '", part, "': ", d.status().message()));
    }
    if (name == "raw") {
      out.raw = *d;
    } else if (name == "10s") {
      out.ten_seconds = *d;
    } else if (name == "1m") {
      out.one_minute = *d;
    } else if (name == "1h") {
      out.one_hour = *d;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("retention '", part, "': unknown level '",
                                                     name, "' (levels: raw, 10s, 1m, 1h)"));
    }
  }
  if (absl::Status s = out.Check(); !s.ok()) return s;
  return out;
}

std::string RetentionToString(const Retention& retention) {
  std::vector<std::string> parts;
  for (Level level : kLevels) {
    parts.push_back(absl::StrCat(LevelName(level), "=", FormatRetention(retention.For(level))));
  }
  return absl::StrJoin(parts, ",");
}

LevelChoice ChooseLevel(int64_t start_ns, int64_t end_ns, int64_t step_ns, int64_t now_ns,
                        const Retention& retention) {
  auto kept = [&](Level level) {
    return now_ns - absl::ToInt64Nanoseconds(retention.For(level)) <= start_ns;
  };
  auto tiles = [&](Level level) {
    const int64_t w = LevelWidthNs(level);
    return w == 0 || (step_ns % w == 0 && start_ns % w == 0 && end_ns % w == 0);
  };
  for (int i = kLevelCount - 1; i >= 0; --i) {
    if (tiles(kLevels[i]) && kept(kLevels[i])) return {kLevels[i], ""};
  }
  for (Level level : kLevels) {
    if (!kept(level)) continue;
    return {level,
            absl::StrCat("the range starts before the finer windows' retention: answered from ",
                         LevelName(level), " windows, so bucket edges are off by up to ",
                         LevelName(level), "; align start, end and step to ", LevelName(level),
                         " for exact buckets")};
  }
  return {Level::k1h, absl::StrCat("the range starts before the retention of every level (",
                                   RetentionToString(retention), "): older data is gone")};
}

}  // namespace andon::aggregator
