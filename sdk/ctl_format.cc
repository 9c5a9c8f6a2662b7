#include "sdk/ctl_format.h"

#include <algorithm>
#include <cinttypes>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

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
    rows.push_back({h.info().host_id(), h.info().kernel_release(),
                    absl::StrCat(h.info().num_cpus()),
                    h.aggregator_id().empty() ? "-" : h.aggregator_id(), Ago(h.last_seen(), now),
                    h.connected() ? "connected" : "disconnected",
                    labels.empty() ? "-" : absl::StrJoin(labels, ",")});
  }
  return Columns(rows);
}

std::string FormatAggregatorsTable(const v1::ListAggregatorsResponse& aggs, absl::Time now) {
  std::vector<std::vector<std::string>> rows = {
      {"AGGREGATOR", "ADDRESS", "HTTP", "HOSTS", "LAST SEEN", "STATE"}};
  for (const auto& a : aggs.aggregators()) {
    rows.push_back({a.id(), a.address(), a.http_address(), absl::StrCat(a.hosts()),
                    Ago(a.last_seen(), now), a.live() ? "live" : "down"});
  }
  return Columns(rows);
}

std::string FormatQueryTable(const v1::QueryResponse& resp,
                             const std::vector<std::string>& group_by) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header;
  for (const auto& g : group_by) header.push_back(absl::AsciiStrToUpper(g));
  header.push_back("TOTAL");
  rows.push_back(header);
  for (const auto& s : resp.series()) {
    std::vector<std::string> row;
    for (const auto& g : group_by) {
      std::string value = "-";
      for (const auto& l : s.labels()) {
        if (l.name() == g) value = l.value();
      }
      row.push_back(value);
    }
    row.push_back(FormatNumber(s.total()));
    rows.push_back(row);
  }
  std::string out = Columns(rows);
  if (resp.series_truncated() > 0) {
    absl::StrAppend(&out, "(", resp.series_truncated(), " more groups not shown; raise --limit)\n");
  }
  return out;
}

std::string FormatQueryJson(const v1::QueryResponse& resp) {
  std::vector<std::string> groups;
  for (const auto& s : resp.series()) {
    std::vector<std::string> labels;
    for (const auto& l : s.labels()) {
      labels.push_back(
          absl::StrCat("\"", JsonEscape(l.name()), "\":\"", JsonEscape(l.value()), "\""));
    }
    groups.push_back(absl::StrCat("{\"labels\":{", absl::StrJoin(labels, ","),
                                  "},\"total\":", FormatNumber(s.total()), "}"));
  }
  return absl::StrCat("{\"metric\":\"", JsonEscape(resp.metric()), "\",\"groups\":[",
                      absl::StrJoin(groups, ","), "],\"truncated\":", resp.series_truncated(),
                      "}\n");
}

}  // namespace andon::sdk
