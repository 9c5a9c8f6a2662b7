#include "agent/probes/generic/generic_config.h"

#include <linux/types.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/probes/generic/generic.h"
#include "common/probe_spec.h"
#include "common/status_macros.h"

namespace andon::agent {
namespace {

using Operand = v1::GenericProbe::Operand;
using Spec = v1::GenericProbe;

bool IsFunction(const Spec& s) { return s.type() == Spec::UPROBE || s.type() == Spec::URETPROBE; }

absl::Status Invalid(const Spec& spec, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(GenericProbeName(spec), ": ", what));
}

std::string FieldList(const std::vector<TracepointField>& fields) {
  std::vector<std::string> names;
  for (const TracepointField& f : fields) {
    if (f.name.rfind("common_", 0) != 0) names.push_back(f.name);
  }
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

// The kernel operand for `op`; `format` says how its bytes read as a label.
absl::StatusOr<KernelOperand> Resolve(const Spec& spec, const Operand& op,
                                      const std::vector<TracepointField>* fields,
                                      SlotFormat* format) {
  KernelOperand k;
  *format = SlotFormat::kSigned;
  // libbpf's USDT argument decoder handles up to 12 arguments.
  const uint32_t max_args = spec.type() == Spec::USDT ? 12 : GENERIC_MAX_ARGS;
  switch (op.kind()) {
    case Operand::COMM:
      k.src = GENERIC_SRC_COMM;
      *format = SlotFormat::kString;
      return k;
    case Operand::PID:
      k.src = GENERIC_SRC_PID;
      *format = SlotFormat::kUnsigned;
      return k;
    case Operand::ARG:
    case Operand::STR_ARG:
      if (!IsFunction(spec) && spec.type() != Spec::USDT) {
        return Invalid(spec, absl::StrCat("arg", op.index(),
                                          ": only uprobes, uretprobes and USDT "
                                          "probes have arguments"));
      }
      if (op.index() >= max_args) {
        return Invalid(spec,
                       absl::StrCat("arg", op.index(), ": arguments are arg0..arg", max_args - 1));
      }
      k.src = op.kind() == Operand::ARG ? GENERIC_SRC_ARG : GENERIC_SRC_STR_ARG;
      k.index = op.index();
      if (op.kind() == Operand::STR_ARG) *format = SlotFormat::kString;
      return k;
    case Operand::RETVAL:
      if (spec.type() != Spec::URETPROBE) {
        return Invalid(spec, "retval is known only at a function's return: use uretprobe:");
      }
      k.src = GENERIC_SRC_RETVAL;
      return k;
    case Operand::LATENCY:
      if (!IsFunction(spec)) return Invalid(spec, "latency needs a uprobe or uretprobe");
      k.src = GENERIC_SRC_LATENCY;
      *format = SlotFormat::kUnsigned;
      return k;
    case Operand::FIELD:
      break;
    default:
      return Invalid(spec, "an operand has no kind");
  }
  if (spec.type() != Spec::TRACEPOINT) {
    return Invalid(spec, absl::StrCat("'", op.field(), "': only tracepoints have fields"));
  }
  if (fields == nullptr) {
    k.src = GENERIC_SRC_FIELD_NUM;  // checked by name only
    return k;
  }
  for (const TracepointField& f : *fields) {
    if (f.name != op.field()) continue;
    k.offset = f.offset;
    k.size = f.size;
    k.is_signed = f.is_signed;
    switch (f.kind) {
      case TracepointField::Kind::kNumber:
        k.src = GENERIC_SRC_FIELD_NUM;
        *format = f.is_signed ? SlotFormat::kSigned : SlotFormat::kUnsigned;
        return k;
      case TracepointField::Kind::kChars:
        k.src = GENERIC_SRC_FIELD_CHARS;
        *format = SlotFormat::kString;
        return k;
      case TracepointField::Kind::kDataLoc:
        k.src = GENERIC_SRC_FIELD_DATALOC;
        *format = SlotFormat::kString;
        return k;
      case TracepointField::Kind::kOther:
        return Invalid(spec,
                       absl::StrCat("field '", f.name, "' is neither an integer nor a string"));
    }
  }
  return Invalid(spec,
                 absl::StrCat("no field '", op.field(), "'; its fields: ", FieldList(*fields)));
}

absl::Status CheckTarget(const Spec& spec) {
  switch (spec.type()) {
    case Spec::TRACEPOINT:
      if (spec.category().empty() || spec.event().empty()) {
        return Invalid(spec, "a tracepoint needs CATEGORY:NAME");
      }
      return absl::OkStatus();
    case Spec::UPROBE:
    case Spec::URETPROBE:
      if (spec.binary().empty() || spec.symbol().empty()) {
        return Invalid(spec, "a uprobe needs BINARY:SYMBOL");
      }
      return absl::OkStatus();
    case Spec::USDT:
      if (spec.binary().empty() || spec.provider().empty() || spec.usdt_name().empty()) {
        return Invalid(spec, "a USDT probe needs BINARY:PROVIDER:PROBE");
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("generic probe without a type");
  }
}

absl::Status PlanFilter(const Spec& spec, const std::vector<TracepointField>* fields,
                        GenericKernelConfig& k) {
  const Spec::Filter& f = spec.filter();
  if (f.op() == Spec::Filter::OP_UNSPECIFIED) return absl::OkStatus();
  SlotFormat format;
  ANDON_ASSIGN_OR_RETURN(k.ops[GENERIC_SLOT_FILTER], Resolve(spec, f.operand(), fields, &format));
  k.filter_op = static_cast<uint32_t>(f.op());  // Filter::Op and generic_filter_op agree
  if (format != SlotFormat::kString) {
    if (f.operand().kind() == Operand::LATENCY) return Invalid(spec, "cannot filter on latency");
    k.filter_number = f.number();
    return absl::OkStatus();
  }
  if (f.op() != Spec::Filter::EQ && f.op() != Spec::Filter::NE) {
    return Invalid(spec, "a string compares only with == or !=");
  }
  const size_t max = f.operand().kind() == Operand::COMM ? 15 : GENERIC_STR_LEN - 1;
  if (f.text().empty() || f.text().size() > max) {
    return Invalid(spec, absl::StrCat("filter text '", f.text(), "' must be 1-", max, " bytes"));
  }
  k.filter_text = f.text();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GenericPlan> PlanGenericProbe(const Spec& spec,
                                             const std::vector<TracepointField>* fields) {
  ANDON_RETURN_IF_ERROR(CheckTarget(spec));
  if (spec.metric().empty()) return Invalid(spec, "no metric name");
  if (spec.by_size() > 2) return Invalid(spec, "at most two --by keys");
  GenericPlan plan;
  GenericKernelConfig& k = plan.kernel;
  bool uses_args = false;
  for (int i = 0; i < spec.by_size(); ++i) {
    const Operand& by = spec.by(i);
    if (by.kind() == Operand::LATENCY) return Invalid(spec, "latency is a value, not a key");
    ANDON_ASSIGN_OR_RETURN(k.ops[i], Resolve(spec, by, fields, &plan.slots[i]));
    plan.labels.push_back(OperandLabel(by));
    uses_args |= by.kind() == Operand::ARG || by.kind() == Operand::STR_ARG;
  }
  switch (spec.value_mode()) {
    case Spec::VALUE_MODE_UNSPECIFIED:
    case Spec::COUNT:
      k.value_mode = GENERIC_COUNT;
      break;
    case Spec::SUM:
    case Spec::DISTRIBUTION: {
      k.value_mode = spec.value_mode() == Spec::SUM ? GENERIC_SUM : GENERIC_DIST;
      SlotFormat format;
      ANDON_ASSIGN_OR_RETURN(k.ops[GENERIC_SLOT_VALUE],
                             Resolve(spec, spec.value(), fields, &format));
      if (format == SlotFormat::kString) {
        return Invalid(spec, absl::StrCat("the value '", OperandLabel(spec.value()),
                                          "' is a string, not a number"));
      }
      uses_args |= spec.value().kind() == Operand::ARG;
      break;
    }
    default:
      return Invalid(spec, "unknown value mode");
  }
  ANDON_RETURN_IF_ERROR(PlanFilter(spec, fields, k));
  const Operand::Kind fk = spec.filter().operand().kind();
  uses_args |= spec.filter().op() != Spec::Filter::OP_UNSPECIFIED &&
               (fk == Operand::ARG || fk == Operand::STR_ARG);

  const bool latency = k.ops[GENERIC_SLOT_VALUE].src == GENERIC_SRC_LATENCY;
  if (spec.type() == Spec::UPROBE) {
    k.attach_entry = true;
    k.attach_return = latency;
    k.save_entry = latency;
  } else if (spec.type() == Spec::URETPROBE) {
    k.attach_return = true;
    k.save_entry = latency || uses_args;
    k.attach_entry = k.save_entry;
  }
  return plan;
}

}  // namespace andon::agent
