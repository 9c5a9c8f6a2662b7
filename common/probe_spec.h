#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "andon/v1/probes.pb.h"

namespace andon {

// Parsing and validation of what an operator writes for a probe
// configuration, shared by the controller (which refuses bad input before
// anything changes) and the agent (which checks what it is pushed). Every
// error is INVALID_ARGUMENT (NOT_FOUND for an unknown catalog probe) and
// names the part that is wrong and what would be right. Pure functions.

// A configuration's name: [a-z_][a-z0-9_]*, at most 64 characters.
absl::Status ValidateConfigName(absl::string_view name);

// Resolves one probe of configuration `config_name` into the instance agents
// run: a catalog probe with typed parameters (key: its catalog name), or a
// generic probe (key and metric: the configuration's name).
absl::StatusOr<v1::ProbeInstance> ResolveProbeSpec(absl::string_view config_name,
                                                   const v1::ProbeSpec& spec);

// Parses the generic forms tracepoint:CAT:NAME, uprobe:BIN:SYM,
// uretprobe:BIN:SYM and usdt:BIN:PROVIDER:PROBE with --by/--value/--filter.
absl::StatusOr<v1::GenericProbe> ParseGenericProbe(const v1::ProbeSpec& spec);

// True if `probe` names a generic form (has a "kind:" prefix).
bool IsGenericProbeName(absl::string_view probe);

// "tracepoint:sched:sched_process_fork" etc. for a parsed generic probe.
std::string GenericProbeName(const v1::GenericProbe& probe);

// The metric a generic probe emits (name: probe.metric()): a COUNTER of hits
// or of a summed value, or a DISTRIBUTION (unit "ns" for latency); labels
// "host" then one per --by key: comm, pid, the field's name, argN (also for
// str(argN)). Agents declare it with their batches; the controller lists it.
v1::MetricInfo GenericProbeMetric(const v1::GenericProbe& probe);

// The label name of a --by key, as GenericProbeMetric names it.
std::string OperandLabel(const v1::GenericProbe::Operand& operand);

// Parses "role=db,host=~web-.*,zone!=eu,rack!~r1.*" into matchers (the label
// `host` is the host id). Commas inside (), [] or {} belong to a regex.
// Regexes are checked to compile. Empty text: no matchers.
absl::StatusOr<v1::TargetSelector> ParseSelector(absl::string_view text);

// Checks a selector given as a message: valid names and patterns, and
// 0 <= fraction <= 1.
absl::Status ValidateSelector(const v1::TargetSelector& selector);

// The selector's text form, for listings.
std::string SelectorText(const v1::TargetSelector& selector);

// Whether a host is targeted: every matcher matches its labels (plus
// host=<host_id>), and its stable position in [0,1) from the host id is
// below the fraction (when one is set). Shares are nested: the hosts of
// fraction 0.05 are among those of 0.10. The selector must be valid.
bool SelectorMatches(const v1::TargetSelector& selector, absl::string_view host_id,
                     const google::protobuf::Map<std::string, std::string>& labels);

// The host's stable position in [0, 1) used by fractions.
double FleetPosition(absl::string_view host_id);

}  // namespace andon
