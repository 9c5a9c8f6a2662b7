// andonctl: the command-line client of an Andon controller.

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/labels.h"
#include "sdk/client.h"
#include "sdk/ctl_format.h"
#include "sdk/probe_format.h"

ABSL_FLAG(std::string, controller, "",
          "controller gRPC address host:port (default: $ANDON_CONTROLLER, else the quickstart "
          "cluster's 127.0.0.1:7400)");
ABSL_FLAG(bool, json, false, "print JSON instead of a table");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of each call");
ABSL_FLAG(std::string, selector, "",
          "hosts: only hosts matching these labels, e.g. role=db,host=~web-.*; probes enable: "
          "the hosts to target, e.g. role=db,host=~web-.*");
ABSL_FLAG(std::string, name, "", "hosts: only hosts whose id or hostname contains this");
ABSL_FLAG(std::string, state, "", "hosts: only hosts up, stale or down");
ABSL_FLAG(std::string, sort, "", "hosts: id (default), last_seen or aggregator");
ABSL_FLAG(std::string, page, "", "hosts: the page token a previous page printed");
ABSL_FLAG(std::string, count_by, "", "hosts: also count the matching hosts by this label");
ABSL_FLAG(double, fraction, 0, "probes enable: a stable share of the fleet, e.g. 0.05");
ABSL_FLAG(absl::Duration, ttl, absl::ZeroDuration(),
          "probes enable: switch the probe off after this long, e.g. 10m");
ABSL_FLAG(std::string, value, "", "probes enable: latency, retval, argN, a field, or sum(...)");
ABSL_FLAG(std::string, filter, "", "probes enable: comm=NAME, pid=N, or FIELD|argN|retval OP N");
ABSL_FLAG(std::string, param, "", "probes enable: catalog probe parameters, e.g. frequency_hz=99");
ABSL_FLAG(std::string, types, "", "events: event types, e.g. exec,exit,tcp_reset (default: all)");
ABSL_FLAG(absl::Duration, watch, absl::Seconds(5), "events: how long to tail");
ABSL_FLAG(bool, follow, false, "events: tail until interrupted");
ABSL_FLAG(bool, replace, false, "probes enable: replace an existing configuration of that name");
ABSL_FLAG(std::string, host, "", "query: only this host");
ABSL_FLAG(std::string, where, "", "query: label equalities, e.g. comm=nginx,syscall=read");
ABSL_FLAG(std::string, by, "",
          "query: labels to group by, e.g. comm or host,comm; probes enable: up to two keys of a "
          "generic probe (comm, pid, argN, str(argN), a tracepoint field)");
ABSL_FLAG(absl::Duration, last, absl::Minutes(5), "query: time range ending now");
ABSL_FLAG(uint32_t, limit, 0,
          "query: at most this many groups, largest first (0: 1000); audit: at most this many "
          "entries (0: 100); hosts: page size (0: 500)");
ABSL_FLAG(std::string, object, "",
          "audit: only changes of this probe configuration, host or aggregator, e.g. io or "
          "web-1");
ABSL_FLAG(std::string, fn, "",
          "query: count, sum, rate, avg, min, max, last, quantile(Q), heatmap or topk(K) "
          "(default: count; avg for gauges)");
ABSL_FLAG(absl::Duration, step, absl::ZeroDuration(),
          "query: bucket width (default: one bucket; --fn heatmap: a 60th of the range)");

namespace {

constexpr char kUsage[] =
    "andonctl [--controller HOST:PORT] [--json] COMMAND\n"
    "commands:\n"
    "  hosts [--selector role=db,host=~web-.*] [--name S] [--state up|stale|down]\n"
    "        [--sort id|last_seen|aggregator] [--limit N] [--page TOKEN] [--count_by LABEL]\n"
    "                                  hosts with their state, a page at a time (500),\n"
    "                                  and counts by state, aggregator and label\n"
    "  aggregators                     the aggregator tree: weight, hosts, state\n"
    "  aggregators drain ID            move the leaf's hosts to the other leaves (only\n"
    "                                  those move, paced); it takes no hosts until undrained\n"
    "  aggregators undrain ID          let the leaf take its share of hosts again\n"
    "  label HOST k=v ... [k- ...]     set (k=v) or remove (k-) labels of a host; probe\n"
    "                                  configurations follow at once\n"
    "  metrics                         list known metrics\n"
    "  query METRIC [--host H] [--where k=v,...] [--by l1,l2] [--last 5m] [--limit N]\n"
    "               [--fn F] [--step 10s]\n"
    "                                  one row per group with its value over the range;\n"
    "                                  F: count, sum, rate, avg, min, max, last,\n"
    "                                  quantile(0.99), heatmap, topk(10)\n"
    "  probes catalog                  built-in probes, their metrics and parameters\n"
    "  probes list                     probe configurations\n"
    "  probes enable NAME PROBE [--selector SEL | --fraction F] [--ttl 10m] [--by KEYS]\n"
    "                [--value V] [--filter F] [--param k=v,...] [--replace]\n"
    "                                  PROBE: a catalog name, tracepoint:CAT:NAME,\n"
    "                                  uprobe:BIN:SYM, uretprobe:BIN:SYM, usdt:BIN:PROVIDER:PROBE\n"
    "  probes status NAME              how the targeted hosts applied it\n"
    "  probes disable NAME             switch it off everywhere\n"
    "  events [--selector SEL] [--types exec,exit] [--watch 5s | --follow]\n"
    "                                  live tail of raw events (exec, exit, tcp_reset, ...)\n"
    "  audit [--limit N] [--object NAME]\n"
    "                                  changes of probe configurations, labels and drains,\n"
    "                                  newest first: who, what, when, before -> after\n"
    "example: andonctl query syscalls --host web-1 --by comm --last 1m\n"
    "example: andonctl query syscall_latency_ns --by syscall --fn 'quantile(0.99)'\n"
    "example: andonctl probes enable bash_readline uretprobe:/bin/bash:readline --by comm";

int Fail(const absl::Status& status) {
  std::string message(status.message());
  if (absl::IsUnavailable(status) && message.find("failed to connect") != std::string::npos) {
    message +=
        "\n  is andon-controller running there? Point andonctl at it with "
        "--controller HOST:PORT or $ANDON_CONTROLLER (deploy/quickstart.sh runs one on "
        "127.0.0.1:7400)";
  }
  std::fprintf(stderr, "andonctl: %s\n", message.c_str());
  return 1;
}

int Usage(const std::string& problem) {
  std::fprintf(stderr, "andonctl: %s\nusage: %s\n", problem.c_str(), kUsage);
  return 2;
}

std::string ControllerAddress() {
  std::string flag = absl::GetFlag(FLAGS_controller);
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("ANDON_CONTROLLER"); env && *env) return env;
  return "127.0.0.1:7400";
}

// Prints a response in protobuf's JSON mapping, as the JSON API serves it.
void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, opts);
  std::printf("%s\n", json.c_str());
}

int Hosts(andon::sdk::Client& client) {
  andon::v1::ListHostsRequest req;
  req.set_selector(absl::GetFlag(FLAGS_selector));
  req.set_name_contains(absl::GetFlag(FLAGS_name));
  req.set_order_by(absl::GetFlag(FLAGS_sort));
  req.set_page_token(absl::GetFlag(FLAGS_page));
  req.set_page_size(absl::GetFlag(FLAGS_limit));
  req.set_count_by_label(absl::GetFlag(FLAGS_count_by));
  if (const std::string state = absl::GetFlag(FLAGS_state); !state.empty()) {
    andon::v1::HostState parsed = andon::v1::HOST_STATE_UNSPECIFIED;
    if (!andon::v1::HostState_Parse("HOST_" + absl::AsciiStrToUpper(state), &parsed)) {
      return Usage("--state takes up, stale or down");
    }
    req.set_state(parsed);
  }
  auto hosts = client.ListHosts(req);
  if (!hosts.ok()) return Fail(hosts.status());
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*hosts);
  } else {
    std::fputs(andon::sdk::FormatHostsTable(*hosts, absl::Now()).c_str(), stdout);
  }
  return 0;
}

// label HOST k=v ... k- ...: sets and removes labels of one host.
int Label(andon::sdk::Client& client, const std::vector<char*>& args) {
  if (args.size() < 4) {
    return Usage("label takes a host and changes, e.g. andonctl label web-1 role=db rack-");
  }
  andon::v1::SetHostLabelsRequest req;
  req.set_host_id(args[2]);
  for (size_t i = 3; i < args.size(); ++i) {
    absl::string_view change = args[i];
    if (absl::ConsumeSuffix(&change, "-") && change.find('=') == absl::string_view::npos) {
      req.add_remove(std::string(change));
      continue;
    }
    auto parsed = andon::ParseLabels(args[i]);
    if (!parsed.ok() || parsed->size() != 1) {
      return Usage(absl::StrCat("label: '", args[i], "' is neither k=v (set) nor k- (remove)"));
    }
    (*req.mutable_set())[parsed->begin()->first] = parsed->begin()->second;
  }
  auto host = client.SetHostLabels(req);
  if (!host.ok()) return Fail(host.status());
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*host);
    return 0;
  }
  std::vector<std::string> labels;
  std::map<std::string, std::string> sorted(host->info().labels().begin(),
                                            host->info().labels().end());
  for (const auto& [k, v] : sorted) labels.push_back(absl::StrCat(k, "=", v));
  std::printf("%s: %s\n", host->info().host_id().c_str(), absl::StrJoin(labels, ",").c_str());
  return 0;
}

int Aggregators(andon::sdk::Client& client) {
  auto aggs = client.ListAggregators();
  if (!aggs.ok()) return Fail(aggs.status());
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*aggs);
  } else {
    std::fputs(andon::sdk::FormatAggregatorsTable(*aggs, absl::Now()).c_str(), stdout);
  }
  return 0;
}

// aggregators drain ID | aggregators undrain ID.
int DrainAggregator(andon::sdk::Client& client, const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  if ((verb != "drain" && verb != "undrain") || args.size() != 4) {
    return Usage(
        "aggregators takes no arguments (the tree), or drain ID, or undrain ID; "
        "e.g. andonctl aggregators drain agg-leaf-2");
  }
  auto agg = client.DrainAggregator(args[3], verb == "drain");
  if (!agg.ok()) return Fail(agg.status());
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*agg);
  } else if (agg->draining()) {
    std::printf(
        "aggregator %s is draining: its hosts move to the other leaves; watch: andonctl "
        "aggregators\n",
        agg->id().c_str());
    auto aggs = client.ListAggregators();
    const bool other_leaf =
        !aggs.ok() ||
        std::any_of(aggs->aggregators().begin(), aggs->aggregators().end(),
                    [](const andon::v1::Aggregator& a) {
                      return a.live() && !a.draining() && a.role() == andon::v1::AGGREGATOR_LEAF;
                    });
    if (!other_leaf) {
      std::fprintf(stderr,
                   "andonctl: warning: no live leaf is left that is not draining, so the hosts "
                   "stay where they are until one is undrained or another leaf joins\n");
    }
  } else {
    std::printf("aggregator %s takes its share of hosts again (weight %u)\n", agg->id().c_str(),
                agg->weight());
  }
  return 0;
}

int Metrics(andon::sdk::Client& client) {
  auto metrics = client.ListMetrics();
  if (!metrics.ok()) return Fail(metrics.status());
  for (const auto& m : metrics->metrics()) {
    std::printf("%-12s %-8s labels=%s  %s\n", m.name().c_str(),
                andon::v1::MetricKind_Name(m.kind()).c_str(),
                absl::StrJoin(m.labels(), ",").c_str(), m.help().c_str());
  }
  return 0;
}

int Query(andon::sdk::Client& client, const std::string& metric) {
  absl::Duration last = absl::GetFlag(FLAGS_last);
  if (last <= absl::ZeroDuration()) return Usage("--last must be positive, e.g. --last 1m");
  const std::string fn = absl::GetFlag(FLAGS_fn);
  absl::Duration step = absl::GetFlag(FLAGS_step);
  if (step < absl::ZeroDuration()) return Usage("--step must not be negative, e.g. --step 10s");
  if (step == absl::ZeroDuration() && absl::StripAsciiWhitespace(fn) == "heatmap") {
    step = std::max(absl::Seconds(1), absl::Trunc(last / 60, absl::Seconds(1)));
  }
  auto req = andon::sdk::MakeRangeQuery(metric, absl::Now(), last, step);
  req.set_limit(absl::GetFlag(FLAGS_limit));
  req.set_fn(fn);
  if (!absl::GetFlag(FLAGS_host).empty()) {
    andon::sdk::AddEqualMatcher(req, "host", absl::GetFlag(FLAGS_host));
  }
  auto where = andon::ParseLabels(absl::GetFlag(FLAGS_where));
  if (!where.ok()) return Usage(absl::StrCat("--where: ", where.status().message()));
  for (const auto& [k, v] : *where) andon::sdk::AddEqualMatcher(req, k, v);
  std::vector<std::string> group_by;
  for (absl::string_view g : absl::StrSplit(absl::GetFlag(FLAGS_by), ',', absl::SkipEmpty())) {
    group_by.emplace_back(g);
    req.add_group_by(std::string(g));
  }
  auto resp = client.Query(req);
  if (!resp.ok()) return Fail(resp.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::fputs(andon::sdk::FormatQueryJson(*resp).c_str(), stdout);
  } else {
    std::fputs(andon::sdk::FormatQueryTable(*resp, group_by).c_str(), stdout);
  }
  return 0;
}

std::string EventLine(const andon::v1::Event& e) {
  std::string line = absl::StrCat(
      absl::FormatTime("%H:%M:%E3S", absl::FromUnixNanos(e.time_ns()), absl::LocalTimeZone()), " ",
      e.host(), " ", e.type());
  for (const auto& f : e.fields()) absl::StrAppend(&line, " ", f.name(), "=", f.value());
  return line;
}

int Events(andon::sdk::Client& client) {
  andon::v1::TailRequest req;
  req.set_selector(absl::GetFlag(FLAGS_selector));
  for (absl::string_view t : absl::StrSplit(absl::GetFlag(FLAGS_types), ',', absl::SkipEmpty())) {
    req.add_types(std::string(t));
  }
  const bool follow = absl::GetFlag(FLAGS_follow);
  const absl::Time end = absl::Now() + absl::GetFlag(FLAGS_watch);
  bool first = true;
  while (follow || absl::Now() < end) {
    auto resp = client.TailEvents(req);
    if (!resp.ok()) return Fail(resp.status());
    if (first) {
      std::fprintf(stderr, "tailing %u hosts\n", resp->hosts_tailing());
      first = false;
    }
    for (const auto& e : resp->events()) {
      if (absl::GetFlag(FLAGS_json)) {
        PrintJson(e);
      } else {
        std::printf("%s\n", EventLine(e.event()).c_str());
      }
    }
    std::fflush(stdout);
    req.set_after_sequence(resp->last_sequence());
    absl::SleepFor(absl::Seconds(1));
  }
  return 0;
}

int Audit(andon::sdk::Client& client) {
  andon::v1::ListAuditRequest req;
  req.set_limit(absl::GetFlag(FLAGS_limit));
  req.set_object(absl::GetFlag(FLAGS_object));
  auto audit = client.ListAudit(req);
  if (!audit.ok()) return Fail(audit.status());
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*audit);
  } else {
    std::fputs(andon::sdk::FormatAuditTable(*audit, absl::LocalTimeZone()).c_str(), stdout);
  }
  return 0;
}

int Probes(andon::sdk::Client& client, const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  const bool json = absl::GetFlag(FLAGS_json);
  if (verb == "catalog" && args.size() == 3) {
    auto catalog = client.ProbeCatalog();
    if (!catalog.ok()) return Fail(catalog.status());
    if (json) {
      PrintJson(*catalog);
    } else {
      std::fputs(andon::sdk::FormatCatalog(*catalog).c_str(), stdout);
    }
    return 0;
  }
  if (verb == "list" && args.size() == 3) {
    auto list = client.ListProbeConfigs();
    if (!list.ok()) return Fail(list.status());
    if (json) {
      PrintJson(*list);
    } else {
      std::fputs(andon::sdk::FormatProbeConfigs(*list, absl::Now()).c_str(), stdout);
    }
    return 0;
  }
  if (verb == "status" && args.size() == 4) {
    auto status = client.ProbeStatus(args[3]);
    if (!status.ok()) return Fail(status.status());
    if (json) {
      PrintJson(*status);
    } else {
      std::fputs(andon::sdk::FormatProbeStatus(*status).c_str(), stdout);
    }
    return 0;
  }
  if (verb == "disable" && args.size() == 4) {
    auto deleted = client.DeleteProbeConfig(args[3]);
    if (!deleted.ok()) return Fail(deleted.status());
    std::printf("disabled %s (configuration version %llu)\n", args[3],
                static_cast<unsigned long long>(deleted->version()));
    return 0;
  }
  if (verb == "enable" && args.size() == 5) {
    andon::v1::PutProbeConfigRequest req;
    req.set_name(args[3]);
    req.set_replace(absl::GetFlag(FLAGS_replace));
    andon::v1::ProbeSpec* spec = req.add_probes();
    spec->set_probe(args[4]);
    for (absl::string_view b : absl::StrSplit(absl::GetFlag(FLAGS_by), ',', absl::SkipEmpty())) {
      spec->add_by(std::string(b));
    }
    spec->set_value(absl::GetFlag(FLAGS_value));
    spec->set_filter(absl::GetFlag(FLAGS_filter));
    auto params = andon::ParseLabels(absl::GetFlag(FLAGS_param));
    if (!params.ok()) return Usage(absl::StrCat("--param: ", params.status().message()));
    for (const auto& [k, v] : *params) (*spec->mutable_params())[k] = v;
    req.set_selector(absl::GetFlag(FLAGS_selector));
    req.mutable_target()->set_fraction(absl::GetFlag(FLAGS_fraction));
    absl::Duration ttl = absl::GetFlag(FLAGS_ttl);
    if (ttl < absl::ZeroDuration()) return Usage("--ttl must not be negative");
    req.mutable_ttl()->set_seconds(absl::ToInt64Seconds(ttl));
    auto config = client.PutProbeConfig(req);
    if (!config.ok()) return Fail(config.status());
    if (json) {
      PrintJson(*config);
    } else {
      std::printf(
          "enabled %s (version %llu) on %s%s; see: andonctl probes status %s\n",
          config->name().c_str(), static_cast<unsigned long long>(config->version()),
          config->selector_text().c_str(),
          config->has_expires() ? absl::StrCat(", for ", absl::FormatDuration(ttl)).c_str() : "",
          config->name().c_str());
    }
    return 0;
  }
  return Usage(
      "probes takes: catalog | list | enable NAME PROBE [flags] | status NAME | disable NAME");
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Usage("no command given");
  std::string command = args[1];

  auto client = andon::sdk::Client::Create(ControllerAddress());
  if (!client.ok()) return Fail(client.status());
  (*client)->set_timeout(absl::GetFlag(FLAGS_timeout));

  if (command == "hosts" && args.size() == 2) return Hosts(**client);
  if (command == "aggregators" && args.size() == 2) return Aggregators(**client);
  if (command == "aggregators") return DrainAggregator(**client, args);
  if (command == "metrics" && args.size() == 2) return Metrics(**client);
  if (command == "probes") return Probes(**client, args);
  if (command == "label") return Label(**client, args);
  if (command == "events" && args.size() == 2) return Events(**client);
  if (command == "audit" && args.size() == 2) return Audit(**client);
  if (command == "query") {
    if (args.size() != 3) return Usage("query takes one metric name, e.g. andonctl query syscalls");
    return Query(**client, args[2]);
  }
  return Usage(absl::StrCat("unknown command or extra arguments: '", command, "'"));
}
