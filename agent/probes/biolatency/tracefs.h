#pragma once

#include "absl/status/status.h"

namespace andon::agent {

// Makes sure tracefs is mounted, which libbpf needs to attach classic
// tracepoints (it resolves their ids under events/). Mounts it at
// /sys/kernel/tracing if neither that nor /sys/kernel/debug/tracing has
// events, and logs that it did. Fails with a message naming the mount
// command when mounting is refused. Thread-compatible.
absl::Status EnsureTracefsMounted();

}  // namespace andon::agent
