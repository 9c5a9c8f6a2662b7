#include "sdk/probe_format.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/proto_time.h"

namespace andon::sdk {

std::string FormatCatalog(const v1::ListCatalogResponse& catalog) {
  std::string out;
  for (const v1::CatalogProbe& p : catalog.probes()) {
    absl::StrAppendFormat(&out, "%s  %s\n", p.name(), p.help());
    for (const v1::MetricInfo& m : p.metrics()) {
      absl::StrAppendFormat(&out, "    metric %-24s %-12s {%s}%s\n", m.name(),
                            v1::MetricKind_Name(m.kind()), absl::StrJoin(m.labels(), ","),
                            m.unit().empty() ? "" : absl::StrCat(" ", m.unit()));
    }
    for (const v1::ProbeParameter& param : p.parameters()) {
      absl::StrAppendFormat(&out, "    param  %s=%s  %s\n", param.name(), param.default_value(),
                            param.help());
    }
    absl::StrAppendFormat(&out, "    attach %s\n", absl::StrJoin(p.attach_points(), " | "));
  }
  absl::StrAppendFormat(&out, "generic probes: %s\n", absl::StrJoin(catalog.generic_forms(), "  "));
  return out;
}

std::string FormatProbeConfigs(const v1::ListProbeConfigsResponse& configs, absl::Time now) {
  std::string out = absl::StrFormat("%-20s %-8s %-40s %-28s %s\n", "NAME", "VERSION", "PROBES",
                                    "TARGET", "EXPIRES");
  for (const v1::ProbeConfig& c : configs.configs()) {
    std::vector<std::string> probes;
    for (const v1::ProbeSpec& s : c.probes()) {
      std::string p = s.probe();
      if (s.by_size() > 0) absl::StrAppend(&p, " by ", absl::StrJoin(s.by(), ","));
      if (!s.value().empty()) absl::StrAppend(&p, " value ", s.value());
      if (!s.filter().empty()) absl::StrAppend(&p, " if ", s.filter());
      probes.push_back(p);
    }
    std::string expires = "-";
    if (c.has_expires()) {
      absl::Duration left = absl::Trunc(FromProtoTime(c.expires()) - now, absl::Seconds(1));
      expires =
          left > absl::ZeroDuration() ? absl::StrCat("in ", absl::FormatDuration(left)) : "now";
    }
    absl::StrAppendFormat(&out, "%-20s %-8d %-40s %-28s %s\n", c.name(), c.version(),
                          absl::StrJoin(probes, "; "), c.selector_text(), expires);
  }
  absl::StrAppendFormat(&out, "configuration version %d\n", configs.version());
  return out;
}

std::string FormatProbeStatus(const v1::ProbeConfigStatus& s) {
  std::string out = absl::StrFormat(
      "%s (version %d): %d hosts targeted, %d applied, %d failed, %d pending\n", s.name(),
      s.version(), s.hosts_targeted(), s.hosts_applied(), s.hosts_failed(), s.hosts_pending());
  for (const auto& f : s.failures()) {
    absl::StrAppendFormat(&out, "  failed on %d hosts (e.g. %s): %s\n", f.hosts(),
                          absl::StrJoin(f.example_hosts(), ", "), f.reason());
  }
  for (const auto& h : s.hosts()) {
    std::vector<std::string> probes;
    for (const v1::ProbeState& p : h.probes()) {
      std::string text = absl::StrCat(p.key(), " ", v1::ProbeState::State_Name(p.state()));
      if (!p.attach_point().empty()) absl::StrAppend(&text, " at ", p.attach_point());
      if (!p.message().empty()) absl::StrAppend(&text, ": ", p.message());
      probes.push_back(text);
    }
    absl::StrAppendFormat(&out, "  %-24s %-8s %s\n", h.host_id(),
                          v1::ProbeConfigStatus::HostState::State_Name(h.state()),
                          absl::StrJoin(probes, "; "));
  }
  return out;
}

}  // namespace andon::sdk
