#include "agent/probes/biolatency/tracefs.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace andon::agent {

absl::Status EnsureTracefsMounted() {
  std::error_code ec;
  if (std::filesystem::exists("/sys/kernel/tracing/events", ec) ||
      std::filesystem::exists("/sys/kernel/debug/tracing/events", ec)) {
    return absl::OkStatus();
  }
  if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
    const int err = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("tracefs is not mounted and mounting it failed (", strerror(err),
                     "); run `mount -t tracefs tracefs /sys/kernel/tracing`"));
  }
  ANDON_LOG(INFO) << "mounted tracefs at /sys/kernel/tracing to attach classic tracepoints";
  return absl::OkStatus();
}

}  // namespace andon::agent
