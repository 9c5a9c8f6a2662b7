#include "sdk/ctl_format.h"

#include <algorithm>
#include <cinttypes>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "andon/v1/probes.pb.h"
#include "google/protobuf/util/json_util.h"

namespace andon::sdk {
namespace {

// Renders rows as left-aligned columns separated by two spaces.
std::string Columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string JsonEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatNumber(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrFormat("%.3f", v);
}

}  // namespace

std::string Ago(const google::protobuf::Timestamp& t, absl::Time now) {
  if (t.seconds() == 0 && t.nanos() == 0) return "never";
  absl::Duration d = now - absl::FromUnixSeconds(t.seconds());
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 120) return absl::StrCat(s, "s ago");
  if (s < 7200) return absl::StrCat(s / 60, "m ago");
  if (s < 172800) return absl::StrCat(s / 3600, "h ago");
  return absl::StrCat(s / 86400, "d ago");
}

std::string FormatHostsTable(const v1::ListHostsResponse& hosts, absl::Time now) {
  std::vector<std::vector<std::string>> rows = {
      {"HOST", "KERNEL", "CPUS", "AGGREGATOR", "LAST SEEN", "STATE", "LABELS"}};
  for (const auto& h : hosts.hosts()) {
    std::vector<std::string> labels;
    std::vector<std::pair<std::string, std::string>> sorted(h.info().labels().begin(),
                                                            h.info().labels().end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [k, v] : sorted) labels.push_back(absl::StrCat(k, "=", v));
    std::string state;
    switch (h.state()) {
      case v1::HOST_UP:
        state = "up";
        break;
      case v1::HOST_STALE:
        state = "stale";
        break;
      case v1::HOST_DOWN:
        state = "down";
        break;
      default:
        state = h.connected() ? "connected" : "disconnected";
    }
    rows.push_back({h.info().host_id(), h.info().kernel_release(),
                    absl::StrCat(h.info().num_cpus()),
                    h.aggregator_id().empty() ? "-" : h.aggregator_id(), Ago(h.last_seen(), now),
                    state, labels.empty() ? "-" : absl::StrJoin(labels, ",")});
  }
  std::string out = Columns(rows);
  if (!hosts.has_counts()) return out;
  const v1::HostCounts& c = hosts.counts();
  auto count_of = [](const google::protobuf::Map<std::string, uint32_t>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0u : it->second;
  };
  absl::StrAppend(&out, hosts.hosts_size(), " of ", c.total(),
                  " hosts: ", count_of(c.by_state(), "up"), " up, ",
                  count_of(c.by_state(), "stale"), " stale, ", count_of(c.by_state(), "down"),
                  " down\n");
  auto line = [&](const char* title, const google::protobuf::Map<std::string, uint32_t>& m) {
    if (m.empty()) return;
    std::vector<std::pair<std::string, uint32_t>> sorted(m.begin(), m.end());
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> parts;
    for (const auto& [k, v] : sorted)
      parts.push_back(absl::StrCat(k.empty() ? "(none)" : k, " ", v));
    absl::StrAppend(&out, title, absl::StrJoin(parts, ", "), "\n");
  };
  line("by aggregator: ", c.by_aggregator());
  line("by label value: ", c.by_label_value());
  if (!hosts.next_page_token().empty()) {
    absl::StrAppend(&out, "more: --page ", hosts.next_page_token(), "\n");
  }
  return out;
}

std::string FormatAggregatorsTable(const v1::ListAggregatorsResponse& aggs, absl::Time now) {
  // The tree, depth first from each root (an aggregator whose parent is not
  // listed), children indented under their parent.
  std::map<std::string, std::vector<const v1::Aggregator*>> children;
  std::vector<const v1::Aggregator*> roots;
  std::set<std::string> ids;
  for (const auto& a : aggs.aggregators()) ids.insert(a.id());
  for (const auto& a : aggs.aggregators()) {
    if (a.parent_id().empty() || !ids.contains(a.parent_id())) {
      roots.push_back(&a);
    } else {
      children[a.parent_id()].push_back(&a);
    }
  }
  std::vector<std::vector<std::string>> rows = {
      {"AGGREGATOR", "ROLE", "ADDRESS", "HTTP", "WEIGHT", "HOSTS", "LAST SEEN", "STATE"}};
  std::vector<std::pair<const v1::Aggregator*, int>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0});
  std::set<std::string> shown;
  while (!stack.empty()) {
    auto [a, depth] = stack.back();
    stack.pop_back();
    if (!shown.insert(a->id()).second) continue;
    std::string role = a->role() == v1::AGGREGATOR_INNER ? "inner" : "leaf";
    if (!a->parent_id().empty() && !ids.contains(a->parent_id())) {
      role += absl::StrCat(" (parent '", a->parent_id(), "' unknown)");
    }
    const bool leaf = a->role() != v1::AGGREGATOR_INNER;
    std::string state = a->live() ? "live" : "down";
    if (a->draining()) absl::StrAppend(&state, ",draining");
    rows.push_back({std::string(2 * depth, ' ') + a->id(), role, a->address(), a->http_address(),
                    leaf ? absl::StrCat(a->weight()) : "-", leaf ? absl::StrCat(a->hosts()) : "-",
                    Ago(a->last_seen(), now), state});
    auto c = children.find(a->id());
    if (c == children.end()) continue;
    for (auto it = c->second.rbegin(); it != c->second.rend(); ++it) {
      stack.push_back({*it, depth + 1});
    }
  }
  std::string out = Columns(rows);
  if (children.empty()) return out;
  std::vector<std::string> rules;
  for (const auto& r : aggs.forward_rules()) {
    rules.push_back(absl::StrCat(r.metric(), ":", absl::StrJoin(r.keep_labels(), ",")));
  }
  absl::StrAppend(&out, "forwarded up: every label but host",
                  rules.empty() ? "" : absl::StrCat("; except ", absl::StrJoin(rules, "; ")), "\n");
  return out;
}

namespace {

// A number in the response's unit: durations for "ns", sizes for "bytes".
std::string FormatValue(double v, absl::string_view unit) {
  if (unit == "ns") {
    if (v >= 1e9) return absl::StrFormat("%.3gs", v / 1e9);
    if (v >= 1e6) return absl::StrFormat("%.3gms", v / 1e6);
    if (v >= 1e3) return absl::StrFormat("%.3gus", v / 1e3);
    return absl::StrFormat("%.3gns", v);
  }
  if (unit == "bytes" || unit == "bytes/s") {
    const char* suffix = unit == "bytes" ? "B" : "B/s";
    if (v >= 1 << 30) return absl::StrFormat("%.3gGi%s", v / (1 << 30), suffix);
    if (v >= 1 << 20) return absl::StrFormat("%.3gMi%s", v / (1 << 20), suffix);
    if (v >= 1 << 10) return absl::StrFormat("%.3gKi%s", v / (1 << 10), suffix);
    return absl::StrCat(FormatNumber(v), suffix);
  }
  if (unit == "1/s") return absl::StrCat(FormatNumber(v), "/s");
  return FormatNumber(v);
}

std::string LabelOf(const v1::Series& s, absl::string_view name) {
  for (const auto& l : s.labels()) {
    if (l.name() == name) return l.value();
  }
  return "-";
}

std::string Caveats(const v1::QueryResponse& resp) {
  std::string out;
  if (resp.series_truncated() > 0) {
    absl::StrAppend(&out, "(", resp.series_truncated(), " more groups not shown; raise --limit)\n");
  }
  if (resp.unlisted_bound() > 0) {
    absl::StrAppend(&out, "(any key not listed has a true count of at most ", resp.unlisted_bound(),
                    ")\n");
  }
  for (const std::string& m : resp.missing()) {
    absl::StrAppend(&out, "partial answer: no data from ", m, "\n");
  }
  for (const std::string& w : resp.warnings()) absl::StrAppend(&out, "warning: ", w, "\n");
  return out;
}

// One text heatmap per series: a row per value range (largest on top), a
// column per time bucket, shaded by the share of the busiest cell.
std::string Heatmap(const v1::Series& s, absl::string_view unit) {
  static constexpr char kShades[] = " .:-=+*#%@";
  std::map<uint64_t, uint64_t> ranges;  // lower -> upper
  uint64_t busiest = 0;
  for (const auto& p : s.points()) {
    for (const auto& c : p.cells()) {
      ranges[c.lower()] = c.upper();
      busiest = std::max(busiest, c.count());
    }
  }
  std::string out;
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
    std::string row = absl::StrFormat("%10s-%-10s |", FormatValue(it->first, unit),
                                      FormatValue(it->second, unit));
    for (const auto& p : s.points()) {
      uint64_t count = 0;
      for (const auto& c : p.cells()) {
        if (c.lower() == it->first) count = c.count();
      }
      const size_t shade = count == 0 ? 0 : 1 + (count * 8) / std::max<uint64_t>(busiest, 1);
      row.push_back(kShades[std::min<size_t>(shade, 9)]);
    }
    absl::StrAppend(&out, row, "\n");
  }
  if (s.points_size() > 0) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%21s  %d columns from %s, busiest cell %d events (@)\n", "", s.points_size(),
                  absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(s.points(0).time_ms()),
                                   absl::LocalTimeZone()),
                  busiest));
  }
  return out;
}

}  // namespace

std::string FormatQueryTable(const v1::QueryResponse& resp,
                             const std::vector<std::string>& group_by) {
  const bool keys = resp.kind() == v1::TOP_K && absl::StartsWith(resp.fn(), "topk(");
  std::vector<std::string> names = group_by;
  if (keys) names.push_back("key");
  if (resp.fn() == "heatmap") {
    std::string out;
    for (const auto& s : resp.series()) {
      std::vector<std::string> labels;
      for (const auto& g : names) labels.push_back(absl::StrCat(g, "=", LabelOf(s, g)));
      absl::StrAppend(&out, labels.empty() ? "all" : absl::StrJoin(labels, ","), ": ",
                      FormatNumber(s.total()), " events\n", Heatmap(s, resp.unit()));
    }
    return absl::StrCat(out, Caveats(resp));
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  for (const auto& g : names) header.push_back(absl::AsciiStrToUpper(g));
  const std::string fn = resp.fn().empty() ? "total" : resp.fn();
  header.push_back(absl::AsciiStrToUpper(fn));
  if (keys) header.push_back("ERROR");
  rows.push_back(header);
  for (const auto& s : resp.series()) {
    std::vector<std::string> row;
    for (const auto& g : names) row.push_back(LabelOf(s, g));
    row.push_back(FormatValue(s.total(), resp.unit()));
    if (keys) row.push_back(absl::StrCat("<=", s.error()));
    rows.push_back(row);
  }
  return absl::StrCat(Columns(rows), Caveats(resp));
}

std::string FormatQueryJson(const v1::QueryResponse& resp) {
  std::vector<std::string> groups;
  for (const auto& s : resp.series()) {
    std::vector<std::string> labels;
    for (const auto& l : s.labels()) {
      labels.push_back(
          absl::StrCat("\"", JsonEscape(l.name()), "\":\"", JsonEscape(l.value()), "\""));
    }
    std::string group = absl::StrCat("{\"labels\":{", absl::StrJoin(labels, ","),
                                     "},\"total\":", FormatNumber(s.total()));
    if (s.error() > 0) absl::StrAppend(&group, ",\"error\":", s.error());
    groups.push_back(absl::StrCat(group, "}"));
  }
  std::vector<std::string> missing;
  for (const auto& m : resp.missing()) missing.push_back(absl::StrCat("\"", JsonEscape(m), "\""));
  std::vector<std::string> warnings;
  for (const auto& w : resp.warnings()) warnings.push_back(absl::StrCat("\"", JsonEscape(w), "\""));
  return absl::StrCat(
      "{\"metric\":\"", JsonEscape(resp.metric()), "\",\"fn\":\"", JsonEscape(resp.fn()),
      "\",\"unit\":\"", JsonEscape(resp.unit()), "\",\"groups\":[", absl::StrJoin(groups, ","),
      "],\"truncated\":", resp.series_truncated(),
      ",\"partial\":", resp.partial() ? "true" : "false", ",\"missing\":[",
      absl::StrJoin(missing, ","), "],\"warnings\":[", absl::StrJoin(warnings, ","), "]}\n");
}

namespace {

// Reads an audit entry's before or after; false when empty or unreadable.
bool FromAuditJson(const std::string& json, google::protobuf::Message* message) {
  if (json.empty()) return false;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // entries written by a newer controller
  return google::protobuf::util::JsonStringToMessage(json, message, options).ok();
}

std::string LabelsChange(const v1::AuditEntry& entry) {
  v1::Host before, after;
  FromAuditJson(entry.before(), &before);
  FromAuditJson(entry.after(), &after);
  std::map<std::string, std::string> was(before.info().labels().begin(),
                                         before.info().labels().end());
  std::map<std::string, std::string> now(after.info().labels().begin(),
                                         after.info().labels().end());
  std::vector<std::string> parts;
  for (const auto& [k, v] : now) {
    auto it = was.find(k);
    if (it == was.end()) {
      parts.push_back(absl::StrCat("+", k, "=", v));
    } else if (it->second != v) {
      parts.push_back(absl::StrCat(k, "=", it->second, "->", v));
    }
  }
  for (const auto& [k, v] : was) {
    if (!now.contains(k)) parts.push_back(absl::StrCat("-", k));
  }
  return parts.empty() ? "no change" : absl::StrJoin(parts, " ");
}

std::string DrainChange(const v1::AuditEntry& entry) {
  v1::Aggregator before, after;
  const bool had = FromAuditJson(entry.before(), &before);
  FromAuditJson(entry.after(), &after);
  auto text = [](const v1::Aggregator& a) { return a.draining() ? "draining" : "taking hosts"; };
  if (had && before.draining() == after.draining()) {
    return absl::StrCat("no change (", text(after), ")");
  }
  return had ? absl::StrCat(text(before), " -> ", text(after)) : text(after);
}

std::string ProbesText(const v1::ProbeConfig& c) {
  std::vector<std::string> probes;
  for (const v1::ProbeSpec& spec : c.probes()) {
    std::vector<std::string> args;
    std::map<std::string, std::string> params(spec.params().begin(), spec.params().end());
    for (const auto& [k, v] : params) args.push_back(absl::StrCat(k, "=", v));
    if (spec.by_size() > 0) args.push_back(absl::StrCat("by=", absl::StrJoin(spec.by(), ",")));
    if (!spec.value().empty()) args.push_back(absl::StrCat("value=", spec.value()));
    if (!spec.filter().empty()) args.push_back(absl::StrCat("filter=", spec.filter()));
    probes.push_back(args.empty() ? spec.probe()
                                  : absl::StrCat(spec.probe(), "(", absl::StrJoin(args, " "), ")"));
  }
  return absl::StrJoin(probes, ",");
}

std::string SelectorOf(const v1::ProbeConfig& c) {
  return c.selector_text().empty() ? "all hosts" : c.selector_text();
}

std::string TtlOf(const v1::ProbeConfig& c) {
  if (!c.has_ttl()) return "none";
  return absl::FormatDuration(absl::Seconds(c.ttl().seconds()) +
                              absl::Nanoseconds(c.ttl().nanos()));
}

std::string ProbeConfigText(const v1::ProbeConfig& c) {
  std::string out = absl::StrCat(ProbesText(c), " on ", SelectorOf(c));
  if (c.has_ttl()) absl::StrAppend(&out, ", ttl ", TtlOf(c));
  return out;
}

std::string ProbesChange(const v1::AuditEntry& entry) {
  v1::ProbeConfig before, after;
  const bool had = FromAuditJson(entry.before(), &before);
  const bool has = FromAuditJson(entry.after(), &after);
  if (!had && !has) return "-";
  if (!had) return ProbeConfigText(after);
  if (!has) return absl::StrCat("was ", ProbeConfigText(before));
  std::vector<std::string> parts;
  auto compare = [&](absl::string_view what, const std::string& was, const std::string& now) {
    if (was != now) parts.push_back(absl::StrCat(what, " ", was, " -> ", now));
  };
  compare("probes", ProbesText(before), ProbesText(after));
  compare("selector", SelectorOf(before), SelectorOf(after));
  compare("ttl", TtlOf(before), TtlOf(after));
  return parts.empty() ? "no change" : absl::StrJoin(parts, "; ");
}

}  // namespace

std::string AuditChangeSummary(const v1::AuditEntry& entry) {
  if (absl::StartsWith(entry.action(), "labels.")) return LabelsChange(entry);
  if (absl::StartsWith(entry.action(), "probes.")) return ProbesChange(entry);
  if (absl::StartsWith(entry.action(), "aggregators.")) return DrainChange(entry);
  return entry.before().empty() && entry.after().empty() ? "-" : "(see --json)";
}

std::string FormatAuditTable(const v1::ListAuditResponse& audit, absl::TimeZone zone) {
  std::vector<std::vector<std::string>> rows = {{"TIME", "WHO", "ACTION", "OBJECT", "CHANGE"}};
  for (const v1::AuditEntry& e : audit.entries()) {
    const absl::Time t = absl::FromUnixSeconds(e.time().seconds());
    rows.push_back({absl::FormatTime("%Y-%m-%d %H:%M:%S", t, zone), e.who(), e.action(), e.object(),
                    AuditChangeSummary(e)});
  }
  return Columns(rows);
}

}  // namespace andon::sdk
