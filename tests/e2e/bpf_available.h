#pragma once

#include <unistd.h>

#include <string>

namespace andon::testing {

// Why BPF tests cannot run here, or empty if they can. Tests call
// GTEST_SKIP() with this reason; they never pass silently.
inline std::string BpfUnavailableReason() {
  if (::geteuid() != 0) return "BPF tests need root (run ctest as root)";
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    return "kernel has no BTF at /sys/kernel/btf/vmlinux; CO-RE probes cannot load";
  }
  return "";
}

}  // namespace andon::testing
