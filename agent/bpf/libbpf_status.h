#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// Converts a libbpf error (negative or positive errno, as libbpf 1.x returns
// it or leaves it in errno) into a Status whose message reads
// "<what>: <strerror>". EPERM/EACCES become PERMISSION_DENIED so that callers
// can tell the user to run as root. The kernel's internal ENOTSUPP (524,
// which strerror() does not know) reads "not supported by this kernel" and,
// like EOPNOTSUPP, becomes UNIMPLEMENTED. For other errors the last warning libbpf
// printed on the calling thread (often the verifier's reason) is appended.
absl::Status LibbpfStatus(int err, absl::string_view what);

// Routes libbpf's own printouts into ANDON_LOG(DEBUG) and remembers the last
// warning for LibbpfStatus. libbpf's advice on EPERM ("raise ulimit -l") is
// wrong on cgroup-accounted kernels, so it is not shown by default. Call once
// before opening any skeleton; idempotent and thread-safe.
void InstallLibbpfLogger();

}  // namespace andon::agent
