#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/probes/generic/tracepoint_format.h"
#include "andon/v1/probes.pb.h"

namespace andon::agent {

// Where one operand slot of a generic BPF program reads from (generic.h's
// generic_src and the field's place in a tracepoint record).
struct KernelOperand {
  uint32_t src = 0;  // generic_src
  uint32_t index = 0;
  uint32_t offset = 0;
  uint32_t size = 0;
  bool is_signed = false;
};

// The `const volatile` globals of a generic program and which of its
// programs to attach: everything that turns the one pre-compiled program
// into this probe.
struct GenericKernelConfig {
  std::array<KernelOperand, 4> ops;  // by0, by1, value, filter (GENERIC_SLOT_*)
  uint32_t value_mode = 0;           // generic_value_mode
  uint32_t filter_op = 0;            // generic_filter_op
  int64_t filter_number = 0;
  std::string filter_text;  // at most GENERIC_STR_LEN - 1 bytes
  // uprobe family: entry saves time and arguments for the return to record.
  bool save_entry = false;
  bool attach_entry = false;   // the uprobe at the function
  bool attach_return = false;  // the uretprobe at its return
};

// How a key slot's kernel bytes become a label value.
enum class SlotFormat { kNone, kString, kSigned, kUnsigned };

struct GenericPlan {
  GenericKernelConfig kernel;
  std::array<SlotFormat, 2> slots = {SlotFormat::kNone, SlotFormat::kNone};
  std::vector<std::string> labels;  // one per `by`, as GenericProbeMetric names them
};

// Checks `spec` and derives the kernel configuration. `fields` is the
// tracepoint's record layout; for a tracepoint probe without it (nullptr) the
// field operands are checked only by name, and the plan is not loadable.
// INVALID_ARGUMENT names what is wrong, e.g. an unknown field (listing the
// tracepoint's fields), a string where a number is needed, arg7.
absl::StatusOr<GenericPlan> PlanGenericProbe(const v1::GenericProbe& spec,
                                             const std::vector<TracepointField>* fields);

}  // namespace andon::agent
