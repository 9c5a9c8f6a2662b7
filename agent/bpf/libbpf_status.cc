#include "agent/bpf/libbpf_status.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/log.h"

namespace andon::agent {
namespace {

// The kernel's internal ENOTSUPP. BPF syscalls return it to user space as is
// (e.g. an operation a map type gained in a later kernel), and strerror()
// knows it only as "Unknown error 524".
constexpr int kKernelENOTSUPP = 524;

// libbpf prints on the thread that called it, so the warning that explains
// a failure is the calling thread's own: per thread, one probe's failure is
// never explained by another's warning loading at the same time.
thread_local std::string last_warning;

int PrintToLog(enum libbpf_print_level level, const char* format, va_list args) {
  char buf[1024];
  vsnprintf(buf, sizeof(buf), format, args);
  absl::string_view line = absl::StripTrailingAsciiWhitespace(buf);
  if (level == LIBBPF_WARN) last_warning = std::string(line);
  if (level != LIBBPF_DEBUG) {
    ANDON_LOG(DEBUG) << "libbpf: " << line;
  }
  return 0;
}

std::string LastWarning() { return last_warning; }

}  // namespace

absl::Status LibbpfStatus(int err, absl::string_view what) {
  err = std::abs(err);
  std::string msg = absl::StrCat(
      what, ": ", err == kKernelENOTSUPP ? "not supported by this kernel" : strerror(err));
  switch (err) {
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(msg);
    default:
      break;
  }
  std::string warning = LastWarning();
  if (!warning.empty()) absl::StrAppend(&msg, " (libbpf: ", warning, ")");
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case ENOMEM:
    case E2BIG:
      return absl::ResourceExhaustedError(msg);
    case EINVAL:
      return absl::InvalidArgumentError(msg);
    case EOPNOTSUPP:  // same value as ENOTSUP on Linux
    case kKernelENOTSUPP:
      return absl::UnimplementedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

void InstallLibbpfLogger() { libbpf_set_print(PrintToLog); }

}  // namespace andon::agent
