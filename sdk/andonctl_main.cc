// andonctl: the command-line client of an Andon controller.

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/labels.h"
#include "sdk/client.h"
#include "sdk/ctl_format.h"

ABSL_FLAG(std::string, controller, "",
          "controller gRPC address host:port (default: $ANDON_CONTROLLER, else the quickstart "
          "cluster's 127.0.0.1:7400)");
ABSL_FLAG(bool, json, false, "print JSON instead of a table");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of each call");
ABSL_FLAG(std::string, selector, "", "hosts: only hosts with these labels, e.g. role=db,rack=r1");
ABSL_FLAG(std::string, host, "", "query: only this host");
ABSL_FLAG(std::string, where, "", "query: label equalities, e.g. comm=nginx,syscall=read");
ABSL_FLAG(std::string, by, "", "query: labels to group by, e.g. comm or host,comm");
ABSL_FLAG(absl::Duration, last, absl::Minutes(5), "query: time range ending now");
ABSL_FLAG(uint32_t, limit, 0, "query: at most this many groups, largest first (0: 1000)");

namespace {

constexpr char kUsage[] =
    "andonctl [--controller HOST:PORT] [--json] COMMAND\n"
    "commands:\n"
    "  hosts [--selector role=db]      list hosts\n"
    "  aggregators                     list aggregators\n"
    "  metrics                         list known metrics\n"
    "  query METRIC [--host H] [--where k=v,...] [--by l1,l2] [--last 5m] [--limit N]\n"
    "                                  one row per group with its total\n"
    "example: andonctl query syscalls --host web-1 --by comm --last 1m";

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
  auto hosts = client.ListHosts(absl::GetFlag(FLAGS_selector));
  if (!hosts.ok()) return Fail(hosts.status());
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*hosts);
  } else {
    std::fputs(andon::sdk::FormatHostsTable(*hosts, absl::Now()).c_str(), stdout);
  }
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
  auto req = andon::sdk::MakeRangeQuery(metric, absl::Now(), last, absl::ZeroDuration());
  req.set_limit(absl::GetFlag(FLAGS_limit));
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
  if (command == "metrics" && args.size() == 2) return Metrics(**client);
  if (command == "query") {
    if (args.size() != 3) return Usage("query takes one metric name, e.g. andonctl query syscalls");
    return Query(**client, args[2]);
  }
  return Usage(absl::StrCat("unknown command or extra arguments: '", command, "'"));
}
