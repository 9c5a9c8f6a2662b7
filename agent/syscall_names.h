#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace andon::agent {

// Numbers at or above this are not syscalls on x86-64 (e.g. -1 from a
// seccomp-skipped call, or x32 numbers); they share one name so that a process
// calling random numbers cannot create unbounded label values.
inline constexpr uint32_t kSyscallTableSize = 1024;

// The x86-64 name of syscall `nr` ("getppid" for 110), from the kernel headers
// the agent was built with. Numbers without a name below kSyscallTableSize
// give "sys_<nr>"; larger ones give "sys_invalid". The view is valid for the
// life of the process. Thread-safe.
absl::string_view SyscallName(uint32_t nr);

}  // namespace andon::agent
