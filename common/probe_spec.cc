#include "common/probe_spec.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/hash.h"
#include "common/label_matcher.h"
#include "common/labels.h"
#include "common/probe_catalog.h"
#include "common/status_macros.h"

namespace andon {
namespace {

using Operand = v1::GenericProbe::Operand;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

bool IsIdentifier(absl::string_view s, bool allow_dots = false) {
  if (s.empty() || s.size() > 255) return false;
  if (!(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '_' || (allow_dots && (c == '.' || c == '$' || c == '@'))))
      return false;
  }
  return true;
}

// Parses argN (N in 0..5) into its index.
bool ParseArg(absl::string_view s, uint32_t* index) {
  if (!absl::ConsumePrefix(&s, "arg") || s.size() != 1 || s[0] < '0' || s[0] > '5') return false;
  *index = static_cast<uint32_t>(s[0] - '0');
  return true;
}

bool IsFunctionProbe(const v1::GenericProbe& p) {
  return p.type() == v1::GenericProbe::UPROBE || p.type() == v1::GenericProbe::URETPROBE;
}

// A key, value or filter operand: comm, pid, argN, str(argN), retval, or a
// tracepoint field.
absl::StatusOr<Operand> ParseOperand(absl::string_view text, const v1::GenericProbe& probe,
                                     absl::string_view role) {
  Operand op;
  text = absl::StripAsciiWhitespace(text);
  uint32_t index = 0;
  if (text == "comm") {
    op.set_kind(Operand::COMM);
  } else if (text == "pid") {
    op.set_kind(Operand::PID);
  } else if (text == "retval") {
    if (probe.type() != v1::GenericProbe::URETPROBE) {
      return Invalid(absl::StrCat(role, " 'retval' needs a uretprobe (uretprobe:BINARY:SYMBOL)"));
    }
    op.set_kind(Operand::RETVAL);
  } else if (ParseArg(text, &index)) {
    if (probe.type() == v1::GenericProbe::TRACEPOINT) {
      return Invalid(absl::StrCat(role, " '", text,
                                  "': tracepoints have named fields, not arguments; name a field "
                                  "of the tracepoint's format"));
    }
    op.set_kind(Operand::ARG);
    op.set_index(index);
  } else if (absl::StartsWith(text, "str(") && absl::EndsWith(text, ")") &&
             ParseArg(text.substr(4, text.size() - 5), &index)) {
    if (!IsFunctionProbe(probe) && probe.type() != v1::GenericProbe::USDT) {
      return Invalid(absl::StrCat(role, " '", text, "' needs a uprobe or usdt probe"));
    }
    op.set_kind(Operand::STR_ARG);
    op.set_index(index);
  } else if (probe.type() == v1::GenericProbe::TRACEPOINT && IsIdentifier(text)) {
    op.set_kind(Operand::FIELD);
    op.set_field(std::string(text));
  } else {
    return Invalid(absl::StrCat(
        role, " '", text, "' is not understood; use comm, pid, argN (N 0-5), str(argN)",
        probe.type() == v1::GenericProbe::TRACEPOINT ? ", or a field of the tracepoint" : "",
        probe.type() == v1::GenericProbe::URETPROBE ? ", or retval" : ""));
  }
  return op;
}

absl::Status ParseValue(absl::string_view text, v1::GenericProbe& probe) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text == "count") {
    probe.set_value_mode(v1::GenericProbe::COUNT);
    return absl::OkStatus();
  }
  if (text == "latency") {
    if (!IsFunctionProbe(probe)) {
      return Invalid(
          "--value latency measures a function from entry to return: it needs a uprobe or "
          "uretprobe (uprobe:BINARY:SYMBOL)");
    }
    probe.mutable_value()->set_kind(Operand::LATENCY);
    probe.set_value_mode(v1::GenericProbe::DISTRIBUTION);
    return absl::OkStatus();
  }
  bool sum = false;
  if (absl::StartsWith(text, "sum(") && absl::EndsWith(text, ")")) {
    sum = true;
    text = text.substr(4, text.size() - 5);
  }
  ANDON_ASSIGN_OR_RETURN(Operand op, ParseOperand(text, probe, "--value"));
  if (op.kind() == Operand::COMM || op.kind() == Operand::STR_ARG) {
    return Invalid(absl::StrCat("--value '", text,
                                "' is not a number; use latency, retval, argN, a numeric "
                                "field, or sum(...) of one"));
  }
  *probe.mutable_value() = op;
  probe.set_value_mode(sum ? v1::GenericProbe::SUM : v1::GenericProbe::DISTRIBUTION);
  return absl::OkStatus();
}

absl::Status ParseFilter(absl::string_view text, v1::GenericProbe& probe) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return absl::OkStatus();
  static constexpr std::pair<const char*, v1::GenericProbe::Filter::Op> kOps[] = {
      {"==", v1::GenericProbe::Filter::EQ}, {"!=", v1::GenericProbe::Filter::NE},
      {"<=", v1::GenericProbe::Filter::LE}, {">=", v1::GenericProbe::Filter::GE},
      {"<", v1::GenericProbe::Filter::LT},  {">", v1::GenericProbe::Filter::GT},
      {"=", v1::GenericProbe::Filter::EQ}};
  for (const auto& [sym, op] : kOps) {
    size_t at = text.find(sym);
    if (at == absl::string_view::npos) continue;
    absl::string_view lhs = absl::StripAsciiWhitespace(text.substr(0, at));
    absl::string_view rhs = absl::StripAsciiWhitespace(text.substr(at + strlen(sym)));
    v1::GenericProbe::Filter* f = probe.mutable_filter();
    ANDON_ASSIGN_OR_RETURN(*f->mutable_operand(), ParseOperand(lhs, probe, "--filter"));
    f->set_op(op);
    if (f->operand().kind() == Operand::COMM || f->operand().kind() == Operand::STR_ARG) {
      if (op != v1::GenericProbe::Filter::EQ && op != v1::GenericProbe::Filter::NE) {
        return Invalid(absl::StrCat("--filter '", text, "': compare ", lhs, " with = or !="));
      }
      if (rhs.empty() || rhs.size() > 15 + (f->operand().kind() == Operand::STR_ARG ? 16 : 0)) {
        return Invalid(absl::StrCat("--filter '", text, "': the name must be 1-15 characters"));
      }
      f->set_text(std::string(rhs));
      return absl::OkStatus();
    }
    int64_t number = 0;
    if (!absl::SimpleAtoi(rhs, &number)) {
      return Invalid(absl::StrCat("--filter '", text, "': '", rhs, "' is not an integer"));
    }
    f->set_number(number);
    return absl::OkStatus();
  }
  return Invalid(absl::StrCat("--filter '", text,
                              "' has no comparison; write comm=NAME, pid=N, or "
                              "FIELD|argN|retval OP NUMBER with OP one of == != < <= > >="));
}

absl::Status CheckBinary(absl::string_view binary, absl::string_view form) {
  if (binary.empty() || binary[0] != '/') {
    return Invalid(absl::StrCat("'", form, "': the binary must be an absolute path, e.g. ",
                                "uprobe:/usr/sbin/nginx:ngx_http_process_request"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::BuiltinProbe> ResolveBuiltin(const v1::ProbeSpec& spec) {
  ANDON_ASSIGN_OR_RETURN(const v1::CatalogProbe* entry, FindBuiltinProbe(spec.probe()));
  if (spec.by_size() > 0 || !spec.value().empty() || !spec.filter().empty()) {
    return Invalid(absl::StrCat("probe '", spec.probe(),
                                "' is a built-in probe: --by, --value and --filter apply only "
                                "to generic probes (tracepoint:, uprobe:, uretprobe:, usdt:)"));
  }
  v1::BuiltinProbe out;
  out.set_name(entry->name());
  for (const auto& [name, text] : spec.params()) {
    const v1::ProbeParameter* param = nullptr;
    std::vector<std::string> names;
    for (const v1::ProbeParameter& p : entry->parameters()) {
      names.push_back(p.name());
      if (p.name() == name) param = &p;
    }
    if (param == nullptr) {
      return Invalid(absl::StrCat(
          "probe '", entry->name(), "' has no parameter '", name, "'",
          names.empty() ? "; it takes none" : "; its parameters: " + absl::StrJoin(names, ", ")));
    }
    uint64_t number = 0;
    if (param->type() == v1::ProbeParameter::BOOL) {
      if (text != "true" && text != "false") {
        return Invalid(absl::StrCat("parameter ", name, "='", text, "' must be true or false"));
      }
      number = text == "true";
    } else if (!absl::SimpleAtoi(text, &number) || number < param->min() || number > param->max()) {
      return Invalid(absl::StrCat("parameter ", name, "='", text, "' must be an integer from ",
                                  param->min(), " to ", param->max()));
    }
    if (entry->name() == "syscalls" && name == "latency") {
      out.mutable_syscalls()->set_latency(number != 0);
    } else if (entry->name() == "profile" && name == "frequency_hz") {
      out.mutable_profile()->set_frequency_hz(static_cast<uint32_t>(number));
    } else if (entry->name() == "runqlat" && name == "top_comms") {
      out.mutable_runqlat()->set_top_comms(static_cast<uint32_t>(number));
    }
  }
  return out;
}

// Splits on commas outside (), [] and {}.
std::vector<std::string> SplitTopLevel(absl::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    if (c == ',' && depth == 0) {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(std::move(cur));
  return out;
}

}  // namespace

absl::Status ValidateConfigName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && (absl::ascii_islower(name[0]) || name[0] == '_');
  for (char c : name) ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_');
  if (!ok) {
    return Invalid(
        absl::StrCat("configuration name '", name,
                     "' is invalid: use lower-case letters, digits and '_', not "
                     "starting with a digit, at most 64 characters (e.g. nginx_requests)"));
  }
  return absl::OkStatus();
}

bool IsGenericProbeName(absl::string_view probe) {
  return absl::StartsWith(probe, "tracepoint:") || absl::StartsWith(probe, "uprobe:") ||
         absl::StartsWith(probe, "uretprobe:") || absl::StartsWith(probe, "usdt:");
}

absl::StatusOr<v1::GenericProbe> ParseGenericProbe(const v1::ProbeSpec& spec) {
  const std::string& form = spec.probe();
  v1::GenericProbe out;
  absl::string_view rest = form;
  if (absl::ConsumePrefix(&rest, "tracepoint:")) {
    std::vector<absl::string_view> parts = absl::StrSplit(rest, ':');
    if (parts.size() != 2 || !IsIdentifier(parts[0]) || !IsIdentifier(parts[1])) {
      return Invalid(absl::StrCat("'", form,
                                  "' is not tracepoint:CATEGORY:NAME (e.g. "
                                  "tracepoint:sched:sched_process_fork)"));
    }
    out.set_type(v1::GenericProbe::TRACEPOINT);
    out.set_category(std::string(parts[0]));
    out.set_event(std::string(parts[1]));
  } else if (absl::ConsumePrefix(&rest, "uprobe:") || absl::ConsumePrefix(&rest, "uretprobe:")) {
    out.set_type(absl::StartsWith(form, "uprobe:") ? v1::GenericProbe::UPROBE
                                                   : v1::GenericProbe::URETPROBE);
    size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos || !IsIdentifier(rest.substr(colon + 1), true)) {
      return Invalid(
          absl::StrCat("'", form, "' is not ", form.substr(0, form.find(':')),
                       ":BINARY:SYMBOL (e.g. uprobe:/usr/sbin/nginx:ngx_http_process_request)"));
    }
    out.set_binary(std::string(rest.substr(0, colon)));
    out.set_symbol(std::string(rest.substr(colon + 1)));
    ANDON_RETURN_IF_ERROR(CheckBinary(out.binary(), form));
  } else if (absl::ConsumePrefix(&rest, "usdt:")) {
    size_t c2 = rest.rfind(':');
    size_t c1 = c2 == absl::string_view::npos || c2 == 0 ? absl::string_view::npos
                                                         : rest.rfind(':', c2 - 1);
    if (c1 == absl::string_view::npos || !IsIdentifier(rest.substr(c1 + 1, c2 - c1 - 1)) ||
        !IsIdentifier(rest.substr(c2 + 1))) {
      return Invalid(absl::StrCat("'", form,
                                  "' is not usdt:BINARY:PROVIDER:PROBE (e.g. "
                                  "usdt:/usr/bin/python3:python:function__entry)"));
    }
    out.set_type(v1::GenericProbe::USDT);
    out.set_binary(std::string(rest.substr(0, c1)));
    out.set_provider(std::string(rest.substr(c1 + 1, c2 - c1 - 1)));
    out.set_usdt_name(std::string(rest.substr(c2 + 1)));
    ANDON_RETURN_IF_ERROR(CheckBinary(out.binary(), form));
  } else {
    return Invalid(absl::StrCat(
        "'", form, "' is not a generic probe; forms: ", absl::StrJoin(GenericProbeForms(), ", ")));
  }
  if (!spec.params().empty()) {
    return Invalid(
        absl::StrCat("'", form, "' takes no parameters; shape it with --by, --value and --filter"));
  }
  if (spec.by_size() > 2) {
    return Invalid(absl::StrCat("--by takes at most two keys, got ", spec.by_size(), " (",
                                absl::StrJoin(spec.by(), ","), ")"));
  }
  for (const std::string& by : spec.by()) {
    ANDON_ASSIGN_OR_RETURN(*out.add_by(), ParseOperand(by, out, "--by"));
  }
  if (out.by_size() == 2 && out.by(0).SerializeAsString() == out.by(1).SerializeAsString()) {
    return Invalid(absl::StrCat("--by names '", spec.by(0), "' twice"));
  }
  ANDON_RETURN_IF_ERROR(ParseValue(spec.value(), out));
  ANDON_RETURN_IF_ERROR(ParseFilter(spec.filter(), out));
  return out;
}

std::string GenericProbeName(const v1::GenericProbe& p) {
  switch (p.type()) {
    case v1::GenericProbe::TRACEPOINT:
      return absl::StrCat("tracepoint:", p.category(), ":", p.event());
    case v1::GenericProbe::UPROBE:
      return absl::StrCat("uprobe:", p.binary(), ":", p.symbol());
    case v1::GenericProbe::URETPROBE:
      return absl::StrCat("uretprobe:", p.binary(), ":", p.symbol());
    case v1::GenericProbe::USDT:
      return absl::StrCat("usdt:", p.binary(), ":", p.provider(), ":", p.usdt_name());
    default:
      return "unknown";
  }
}

absl::StatusOr<v1::ProbeInstance> ResolveProbeSpec(absl::string_view config_name,
                                                   const v1::ProbeSpec& spec) {
  v1::ProbeInstance out;
  out.add_configs(std::string(config_name));
  if (IsGenericProbeName(spec.probe())) {
    ANDON_RETURN_IF_ERROR(ValidateConfigName(config_name));
    if (FindBuiltinProbe(config_name).ok()) {
      return Invalid(
          absl::StrCat("a generic probe's configuration is named after its metric, and '",
                       config_name, "' is a built-in probe; choose another name"));
    }
    for (const v1::CatalogProbe& p : BuiltinProbes()) {
      for (const v1::MetricInfo& m : p.metrics()) {
        if (m.name() == config_name) {
          return Invalid(absl::StrCat("'", config_name, "' is the metric of built-in probe '",
                                      p.name(), "'; name the configuration otherwise"));
        }
      }
    }
    ANDON_ASSIGN_OR_RETURN(*out.mutable_generic(), ParseGenericProbe(spec));
    out.mutable_generic()->set_metric(std::string(config_name));
    out.set_key(std::string(config_name));
    return out;
  }
  ANDON_ASSIGN_OR_RETURN(*out.mutable_builtin(), ResolveBuiltin(spec));
  out.set_key(out.builtin().name());
  return out;
}

absl::StatusOr<v1::TargetSelector> ParseSelector(absl::string_view text) {
  v1::TargetSelector out;
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  for (const std::string& part : SplitTopLevel(text)) {
    absl::string_view p = absl::StripAsciiWhitespace(part);
    size_t at = p.find_first_of("=!");
    if (at == absl::string_view::npos || at == 0) {
      return Invalid(absl::StrCat("selector part '", p,
                                  "' is not NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX "
                                  "(e.g. role=db,host=~web-.*)"));
    }
    v1::LabelMatcher* m = out.add_matchers();
    m->set_name(std::string(absl::StripAsciiWhitespace(p.substr(0, at))));
    absl::string_view op = p.substr(at);
    if (absl::ConsumePrefix(&op, "=~")) {
      m->set_op(v1::LabelMatcher::REGEX);
    } else if (absl::ConsumePrefix(&op, "!~")) {
      m->set_op(v1::LabelMatcher::NOT_REGEX);
    } else if (absl::ConsumePrefix(&op, "!=")) {
      m->set_op(v1::LabelMatcher::NEQ);
    } else if (absl::ConsumePrefix(&op, "=")) {
      m->set_op(v1::LabelMatcher::EQ);
    } else {
      return Invalid(absl::StrCat("selector part '", p, "': use =, !=, =~ or !~"));
    }
    m->set_value(std::string(absl::StripAsciiWhitespace(op)));
  }
  ANDON_RETURN_IF_ERROR(ValidateSelector(out));
  return out;
}

absl::Status ValidateSelector(const v1::TargetSelector& selector) {
  if (!(selector.fraction() >= 0 && selector.fraction() <= 1)) {
    return Invalid(absl::StrCat("fraction ", selector.fraction(),
                                " must be between 0 and 1 (e.g. 0.05 for 5% of the fleet)"));
  }
  for (const v1::LabelMatcher& m : selector.matchers()) {
    if (!IsValidLabelName(m.name())) {
      return Invalid(
          absl::StrCat("selector label '", m.name(), "' is invalid; use letters, digits and '_'"));
    }
    absl::StatusOr<LabelMatcher> compiled = LabelMatcher::Compile(m);
    if (!compiled.ok()) return Invalid(absl::StrCat("selector: ", compiled.status().message()));
  }
  return absl::OkStatus();
}

std::string SelectorText(const v1::TargetSelector& selector) {
  std::vector<std::string> parts;
  for (const v1::LabelMatcher& m : selector.matchers()) {
    const char* op = m.op() == v1::LabelMatcher::EQ      ? "="
                     : m.op() == v1::LabelMatcher::NEQ   ? "!="
                     : m.op() == v1::LabelMatcher::REGEX ? "=~"
                                                         : "!~";
    parts.push_back(absl::StrCat(m.name(), op, m.value()));
  }
  if (selector.fraction() > 0) parts.push_back(absl::StrCat("fraction=", selector.fraction()));
  return parts.empty() ? "all hosts" : absl::StrJoin(parts, ",");
}

std::string OperandLabel(const Operand& op) {
  switch (op.kind()) {
    case Operand::COMM:
      return "comm";
    case Operand::PID:
      return "pid";
    case Operand::FIELD:
      return op.field();
    case Operand::ARG:
    case Operand::STR_ARG:
      return absl::StrCat("arg", op.index());
    case Operand::RETVAL:
      return "retval";
    default:
      return "value";
  }
}

v1::MetricInfo GenericProbeMetric(const v1::GenericProbe& probe) {
  v1::MetricInfo m;
  m.set_name(probe.metric());
  m.set_source("generic");
  m.add_labels("host");
  for (const Operand& by : probe.by()) m.add_labels(OperandLabel(by));
  const std::string what = GenericProbeName(probe);
  switch (probe.value_mode()) {
    case v1::GenericProbe::DISTRIBUTION:
      m.set_kind(v1::DISTRIBUTION);
      if (probe.value().kind() == Operand::LATENCY) {
        m.set_unit("ns");
        m.set_help(absl::StrCat("Latency from entry to return of ", what, "."));
      } else {
        m.set_help(
            absl::StrCat("Distribution of ", OperandLabel(probe.value()), " at ", what, "."));
      }
      break;
    case v1::GenericProbe::SUM:
      m.set_kind(v1::COUNTER);
      m.set_help(absl::StrCat("Sum of ", OperandLabel(probe.value()), " at ", what, "."));
      break;
    default:
      m.set_kind(v1::COUNTER);
      m.set_help(absl::StrCat("Hits of ", what, "."));
      break;
  }
  return m;
}

double FleetPosition(absl::string_view host_id) {
  uint64_t h = Mix64(Fnv1a(kFnv1aOffset, host_id));
  return static_cast<double>(h >> 11) / static_cast<double>(1ull << 53);
}

bool SelectorMatches(const v1::TargetSelector& selector, absl::string_view host_id,
                     const google::protobuf::Map<std::string, std::string>& labels) {
  if (selector.fraction() > 0 && FleetPosition(host_id) >= selector.fraction()) return false;
  if (selector.matchers_size() == 0) return true;
  v1::SeriesKey key;
  for (const auto& [name, value] : labels) {
    if (name == "host") continue;  // `host` is the host id
    v1::Label* l = key.add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  v1::Label* host = key.add_labels();
  host->set_name("host");
  host->set_value(std::string(host_id));
  for (const v1::LabelMatcher& m : selector.matchers()) {
    absl::StatusOr<LabelMatcher> compiled = LabelMatcher::Compile(m);
    if (!compiled.ok() || !compiled->Matches(key)) return false;
  }
  return true;
}

}  // namespace andon
