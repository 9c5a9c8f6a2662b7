#pragma once

#include <sstream>

// Minimal leveled logging to stderr (Debian's Abseil predates absl/log).
// Usage: ANDON_LOG(INFO) << "connected to " << addr;  Thread-safe: each line
// is written with a single write(2).

namespace andon {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Lines below this level are dropped. Default kInfo.
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Turns a streamed line into a void expression for ANDON_LOG's ?: (`&` binds
// looser than `<<`, so it takes the whole line).
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace andon

#define ANDON_LOG_LEVEL_DEBUG ::andon::LogLevel::kDebug
#define ANDON_LOG_LEVEL_INFO ::andon::LogLevel::kInfo
#define ANDON_LOG_LEVEL_WARNING ::andon::LogLevel::kWarning
#define ANDON_LOG_LEVEL_ERROR ::andon::LogLevel::kError

// An expression, not an if/else: `if (x) ANDON_LOG(INFO) << ...; else ...`
// binds as written, and the compiler has no dangling else to warn of. The
// operands are not evaluated when the level is off.
#define ANDON_LOG(level)                             \
  (ANDON_LOG_LEVEL_##level < ::andon::MinLogLevel()) \
      ? (void)0                                      \
      : ::andon::LogVoidify() &                      \
            ::andon::LogLine(ANDON_LOG_LEVEL_##level, __FILE__, __LINE__).stream()
