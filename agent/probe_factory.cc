#include "agent/probe_factory.h"

#include "absl/strings/str_cat.h"
#include "agent/probes/biolatency/biolatency_probe.h"
#include "agent/probes/exec/exec_probe.h"
#include "agent/probes/generic/generic_probe.h"
#include "agent/probes/hostmetrics/hostmetrics_probe.h"
#include "agent/probes/profile/profile_probe.h"
#include "agent/probes/runqlat/runqlat_probe.h"
#include "agent/probes/syscalls/syscalls_probe.h"
#include "agent/probes/tcp/tcp_probe.h"
#include "common/status_macros.h"

namespace andon::agent {
namespace {

absl::StatusOr<std::unique_ptr<Probe>> CreateBuiltin(const v1::BuiltinProbe& p) {
  const std::string& name = p.name();
  if (name == "hostmetrics") return std::make_unique<HostMetricsProbe>();
  if (name == "syscalls") {
    SyscallsProbeOptions options;
    if (p.has_syscalls()) options.latency = p.syscalls().latency();
    return std::make_unique<SyscallsProbe>(options);
  }
  if (name == "exec") return std::make_unique<ExecProbe>();
  if (name == "biolatency") return std::make_unique<BiolatencyProbe>();
  if (name == "tcp") return std::make_unique<TcpProbe>();
  if (name == "runqlat") {
    RunqlatProbeOptions options;
    if (p.has_runqlat()) options.top_comms = p.runqlat().top_comms();
    return std::make_unique<RunqlatProbe>(options);
  }
  if (name == "profile") {
    ProfileProbeOptions options;
    if (p.has_profile() && p.profile().frequency_hz() > 0) {
      options.frequency_hz = p.profile().frequency_hz();
    }
    return std::make_unique<ProfileProbe>(options);
  }
  return absl::NotFoundError(
      absl::StrCat("this agent has no built-in probe '", name, "'; upgrade andon-agent"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Probe>> CreateProbe(const v1::ProbeInstance& instance) {
  if (instance.has_builtin()) return CreateBuiltin(instance.builtin());
  if (instance.has_generic()) {
    ANDON_ASSIGN_OR_RETURN(
        std::unique_ptr<GenericProbe> probe,
        GenericProbe::Create(instance.key(), instance.generic(), instance.budget()));
    return std::unique_ptr<Probe>(std::move(probe));
  }
  return absl::InvalidArgumentError(absl::StrCat("probe instance '", instance.key(),
                                                 "' names neither a built-in nor a generic probe"));
}

}  // namespace andon::agent
