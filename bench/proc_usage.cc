#include "bench/proc_usage.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace andon::bench {

absl::StatusOr<ProcCpu> ReadProcCpu(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  // The command name (field 2) may hold spaces: fields are counted after the
  // last ')'. There, field 3 (state) is index 0, so utime (14) is index 11.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": has the process exited?"));
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 1), ' ', absl::SkipEmpty());
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat("unexpected format of ", path));
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ProcCpu{utime / tick, stime / tick};
}

absl::StatusOr<uint64_t> ReadProcStatusKib(pid_t pid, const std::string& field) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field + ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    uint64_t kib = 0;
    if (absl::SimpleAtoi(rest, &kib)) return kib;
  }
  return absl::NotFoundError(absl::StrCat("no ", field, " in ", path));
}

double CpuSecondsOf(pid_t pid) {
  absl::StatusOr<ProcCpu> cpu = ReadProcCpu(pid);
  return cpu.ok() ? cpu->user_s + cpu->system_s : 0;
}

double RssMibOf(pid_t pid) {
  absl::StatusOr<uint64_t> kib = ReadProcStatusKib(pid, "VmRSS");
  return kib.ok() ? static_cast<double>(*kib) / 1024 : 0;
}

}  // namespace andon::bench
