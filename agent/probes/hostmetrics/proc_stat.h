#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// The CPU modes of /proc/stat's aggregate "cpu" line, in file order. guest and
// guest_nice are left out: the kernel already counts them in user and nice.
inline constexpr std::array<const char*, 8> kCpuModes = {"user",   "nice", "system",  "idle",
                                                         "iowait", "irq",  "softirq", "steal"};

// CPU time since boot summed over all CPUs, by mode (kCpuModes order), in ms.
using CpuTimesMs = std::array<uint64_t, kCpuModes.size()>;

// Parses the "cpu" line of /proc/stat, whose values are in USER_HZ ticks.
// Fields missing on old kernels (steal before 2.6.11) read as 0. Fails with
// INVALID_ARGUMENT if there is no well-formed "cpu" line.
absl::StatusOr<CpuTimesMs> ParseProcStatCpu(absl::string_view text, uint64_t ticks_per_second);

}  // namespace andon::agent
