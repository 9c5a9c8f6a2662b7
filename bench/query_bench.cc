// Fleet-wide queries against Prometheus on the same synthetic fleet data.
//
// The fleet: --hosts hosts (10,000 by default); each host counts its
// syscalls by process (--comms processes, Zipf-distributed) and times
// --samples syscalls per 10 s window (log-normal around a host's own median).
// --history of it (65 minutes) is generated once and loaded into both:
//  - Andon: an andon-aggregator acting as the tree's root, holding what the
//    leaves forward: the fleet-wide series (host dropped), one point per
//    comm per 10 s window and one merged latency distribution per window,
//    sent over gRPC Ingest.Push as a leaf's forwarder sends them;
//  - Prometheus 2.42: every host's own series (it has no tree), counters
//    syscalls_total{host,comm} and the histogram syscall_latency_seconds
//    (13 buckets, 10 us doubling to 20 ms, and +Inf), sampled every --prom_interval (60 s), written
//    with promtool tsdb create-blocks-from openmetrics and served by the
//    prometheus server.
// Then each query runs --queries times, timed at the client:
//  - the top 10 processes by syscalls over the last 5 minutes:
//      Andon `--fn topk(10)` grouped by comm, one 5 min bucket;
//      PromQL topk(10, sum by (comm) (increase(syscalls_total[5m])));
//  - the fleet's p99 syscall latency over the last hour, one point a minute:
//      Andon `--fn quantile(0.99)` at step 1m;
//      PromQL histogram_quantile(0.99, sum by (le)
//        (rate(syscall_latency_seconds_bucket[2m]))) at step 1m (a rate
//      needs two samples of the 60 s scrape).
// The server's CPU over the queries is reported per query, and the answers'
// accuracy against the exact figures of the generated data.
// Prints a markdown table (bench/run.sh puts it in bench/RESULTS.md).

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "andon/v1/query.grpc.pb.h"
#include "bench/proc_usage.h"
#include "bench/promtool.h"
#include "common/proto_time.h"
#include "common/value/distribution.h"
#include "tests/harness/local_cluster.h"

ABSL_FLAG(int, hosts, 10000, "hosts in the fleet");
ABSL_FLAG(int, comms, 20, "processes per host");
ABSL_FLAG(int, samples, 20, "syscall latencies per host per 10 s window");
ABSL_FLAG(absl::Duration, history, absl::Minutes(65), "data generated, ending now");
ABSL_FLAG(absl::Duration, prom_interval, absl::Seconds(60), "Prometheus's sample interval");
ABSL_FLAG(int, queries, 20, "runs of each query per server");
ABSL_FLAG(std::string, prometheus, "/usr/bin/prometheus", "the peer; empty or missing: Andon only");
ABSL_FLAG(std::string, promtool, "/usr/bin/promtool", "Prometheus's promtool");

namespace andon::bench {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kWindowNs = 10'000'000'000;
// Prometheus's histogram buckets, in seconds (+Inf last): chosen for the
// data, as an operator would (10 us doubling to 20 ms; the default buckets
// start at 5 ms and would put every syscall in the first).
const std::vector<double> kLe = {10e-6,   20e-6,   40e-6,   80e-6,    160e-6,   320e-6,  640e-6,
                                 1.28e-3, 2.56e-3, 5.12e-3, 10.24e-3, 20.48e-3, INFINITY};

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5))];
}

// The generated fleet, as each server holds it.
struct Fleet {
  int64_t start_ns = 0, end_ns = 0;  // [start, end), whole 10 s windows
  std::vector<std::string> comms;
  // Andon's root: per window, per comm, the fleet's syscalls; and the
  // window's latencies merged.
  std::vector<std::vector<uint64_t>> fleet_counts;
  std::vector<v1::Distribution> fleet_latency;
  // Exact answers: the syscalls per comm over the last 5 minutes, and the
  // p99 of each minute's latencies (by minute start, ns).
  std::map<std::string, uint64_t> last5m;
  std::map<int64_t, double> minute_p99_ns;
  // Prometheus: per sample time, per host, cumulative counters (comms, then
  // the buckets).
  std::vector<int64_t> prom_times_s;
  std::vector<std::vector<uint64_t>> prom_values;  // [sample][host * stride + i]
  size_t stride = 0;
};

Fleet Generate() {
  const int hosts = absl::GetFlag(FLAGS_hosts);
  const int comms = absl::GetFlag(FLAGS_comms);
  const int samples = absl::GetFlag(FLAGS_samples);
  const int64_t prom_every = std::max<int64_t>(
      1, absl::ToInt64Nanoseconds(absl::GetFlag(FLAGS_prom_interval)) / kWindowNs);
  Fleet f;
  f.end_ns = (absl::GetCurrentTimeNanos() / kWindowNs - 1) * kWindowNs;
  const int64_t windows = absl::ToInt64Nanoseconds(absl::GetFlag(FLAGS_history)) / kWindowNs;
  f.start_ns = f.end_ns - windows * kWindowNs;
  for (int c = 0; c < comms; ++c) f.comms.push_back(absl::StrCat("proc", c));
  f.stride = static_cast<size_t>(comms) + kLe.size();
  std::vector<uint64_t> cumulative(static_cast<size_t>(hosts) * f.stride, 0);
  std::vector<double> host_median(hosts), host_rate(hosts);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> spread(0, 0.25), request(0, 0.6);
  for (int h = 0; h < hosts; ++h) {
    host_median[h] = 50e3 * std::exp(spread(rng)) * (h % 50 == 7 ? 8 : 1);  // ns
    host_rate[h] = std::exp(spread(rng));
  }
  std::vector<uint64_t> minute;  // this minute's latencies, all hosts
  for (int64_t w = 0; w < windows; ++w) {
    const int64_t start = f.start_ns + w * kWindowNs;
    std::vector<uint64_t> counts(comms, 0);
    DistributionBuilder latency;
    for (int h = 0; h < hosts; ++h) {
      uint64_t* host = &cumulative[static_cast<size_t>(h) * f.stride];
      for (int c = 0; c < comms; ++c) {
        // Zipf over processes, a steady rate per host, a little noise.
        const double mean = host_rate[h] * 2000.0 / (c + 1);
        const uint64_t n = static_cast<uint64_t>(mean * (0.9 + 0.2 * (rng() % 1000) / 1000.0));
        counts[c] += n;
        host[c] += n;
      }
      for (int s = 0; s < samples; ++s) {
        const uint64_t v = static_cast<uint64_t>(host_median[h] * std::exp(request(rng)));
        latency.Add(v);
        minute.push_back(v);
        size_t b = 0;
        while (static_cast<double>(v) / 1e9 > kLe[b]) ++b;
        for (size_t k = b; k < kLe.size(); ++k) ++host[comms + k];  // cumulative le
      }
    }
    if (start >= f.end_ns - 30 * kWindowNs) {
      for (int c = 0; c < comms; ++c) f.last5m[f.comms[c]] += counts[c];
    }
    f.fleet_counts.push_back(std::move(counts));
    f.fleet_latency.push_back(latency.ToProto());
    if ((w + 1) % 6 == 0) {  // a minute ends
      std::sort(minute.begin(), minute.end());
      const size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(minute.size())));
      f.minute_p99_ns[start - 5 * kWindowNs] = static_cast<double>(minute[rank - 1]);
      minute.clear();
    }
    if ((w + 1) % prom_every == 0) {
      f.prom_times_s.push_back((start + kWindowNs) / 1'000'000'000);
      f.prom_values.push_back(cumulative);
    }
  }
  return f;
}

v1::Point* AddPoint(v1::IngestBatch& b, const char* metric,
                    const std::vector<std::pair<std::string, std::string>>& labels, int64_t start) {
  v1::Point* p = b.add_points();
  p->mutable_series()->set_metric(metric);
  for (const auto& [n, v] : labels) {
    v1::Label* l = p->mutable_series()->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  p->set_window_start_ns(start);
  p->set_window_ns(kWindowNs);
  return p;
}

// Loads the root's share, as a leaf forwards it; returns the points accepted.
absl::StatusOr<int64_t> LoadAndon(const Fleet& f, const std::string& addr) {
  auto stub = v1::Ingest::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::IngestAck ack;
  auto writer = stub->Push(&ctx, &ack);
  for (size_t w = 0; w < f.fleet_counts.size(); ++w) {
    v1::IngestBatch b;
    b.set_sender_id("leaf-bench");
    b.set_sender_kind(v1::AGGREGATOR);
    b.set_sequence(w + 1);
    const int64_t start = f.start_ns + static_cast<int64_t>(w) * kWindowNs;
    for (size_t c = 0; c < f.comms.size(); ++c) {
      AddPoint(b, "syscalls", {{"comm", f.comms[c]}, {"syscall", "read"}}, start)
          ->mutable_value()
          ->set_counter(f.fleet_counts[w][c]);
    }
    *AddPoint(b, "syscall_latency_ns", {{"comm", "all"}, {"syscall", "read"}}, start)
         ->mutable_value()
         ->mutable_distribution() = f.fleet_latency[w];
    if (!writer->Write(b)) break;
  }
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  if (!st.ok()) return absl::InternalError(absl::StrCat("Ingest.Push: ", st.error_message()));
  return ack.points_accepted();
}

// Writes every host's series as OpenMetrics and backfills them with promtool.
absl::Status LoadPrometheus(const Fleet& f, const std::string& promtool, const fs::path& dir) {
  const fs::path input = dir / "fleet.om";
  {
    std::ofstream om(input);
    const int hosts = absl::GetFlag(FLAGS_hosts);
    om << "# TYPE syscalls counter\n";
    for (int h = 0; h < hosts; ++h) {
      for (size_t c = 0; c < f.comms.size(); ++c) {
        const std::string labels = absl::StrCat("{comm=\"", f.comms[c], "\",host=\"h", h, "\"} ");
        for (size_t t = 0; t < f.prom_times_s.size(); ++t) {
          om << "syscalls_total" << labels << f.prom_values[t][h * f.stride + c] << ' '
             << f.prom_times_s[t] << '\n';
        }
      }
    }
    om << "# TYPE syscall_latency_seconds_bucket gauge\n";
    for (int h = 0; h < hosts; ++h) {
      for (size_t k = 0; k < kLe.size(); ++k) {
        const std::string le = std::isinf(kLe[k]) ? "+Inf" : absl::StrCat(kLe[k]);
        const std::string labels = absl::StrCat("{host=\"h", h, "\",le=\"", le, "\"} ");
        for (size_t t = 0; t < f.prom_times_s.size(); ++t) {
          om << "syscall_latency_seconds_bucket" << labels
             << f.prom_values[t][h * f.stride + f.comms.size() + k] << ' ' << f.prom_times_s[t]
             << '\n';
        }
      }
    }
    om << "# EOF\n";
  }
  const fs::path tsdb = dir / "tsdb";
  fs::create_directories(tsdb);
  absl::StatusOr<double> cpu = BackfillWithPromtool(promtool, input.string(), tsdb.string());
  if (!cpu.ok()) return cpu.status();
  fs::remove(input);
  return absl::OkStatus();
}

struct Timed {
  std::vector<double> ms;
  double cpu_s = 0;
  std::string check;  // how the answer compares with the exact one
};

std::string Row(const char* server, const char* query, const Timed& t, int queries) {
  return absl::StrFormat("| %s | %s | %.1f | %.1f | %.1f | %s |", server, query,
                         Percentile(t.ms, 0.5), Percentile(t.ms, 0.99), 1e3 * t.cpu_s / queries,
                         t.check);
}

template <typename Fn>
Timed Time(pid_t server, int queries, Fn query) {
  Timed t;
  const double cpu0 = CpuSecondsOf(server);
  for (int i = 0; i < queries; ++i) {
    const absl::Time t0 = absl::Now();
    t.check = query();
    t.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
  }
  t.cpu_s = CpuSecondsOf(server) - cpu0;
  return t;
}

// The top-10 answer against the exact one: same processes, and the largest
// relative difference of their counts.
std::string CompareTop(const Fleet& f, const std::vector<std::pair<std::string, double>>& got) {
  std::vector<std::pair<uint64_t, std::string>> exact;
  for (const auto& [comm, n] : f.last5m) exact.emplace_back(n, comm);
  std::sort(exact.rbegin(), exact.rend());
  exact.resize(std::min<size_t>(10, exact.size()));
  size_t same = 0;
  double worst = 0;
  for (const auto& [comm, value] : got) {
    for (const auto& [n, c] : exact) {
      if (c != comm) continue;
      ++same;
      worst = std::max(worst, std::abs(value - static_cast<double>(n)) / static_cast<double>(n));
    }
  }
  return absl::StrFormat("%zu of the 10 exact processes, counts within %.2f %%", same, 100 * worst);
}

// The p99 series against the exact minute p99s: the median of the relative
// errors over the minutes both have.
std::string CompareP99(const Fleet& f, const std::map<int64_t, double>& got_ns) {
  std::vector<double> errors;
  for (const auto& [minute, exact] : f.minute_p99_ns) {
    auto it = got_ns.find(minute);
    if (it != got_ns.end()) errors.push_back(std::abs(it->second - exact) / exact);
  }
  if (errors.empty()) return "no minute in common with the exact series";
  return absl::StrFormat("%zu minutes; error vs exact: median %.2f %%, max %.2f %%", errors.size(),
                         100 * Percentile(errors, 0.5), 100 * Percentile(errors, 1.0));
}

int Run() {
  const int queries = absl::GetFlag(FLAGS_queries);
  std::fprintf(stderr, "query_bench: generating the fleet's data\n");
  const Fleet f = Generate();
  char tmpl[] = "/tmp/andon-query-bench-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const std::string history = absl::FormatDuration(absl::GetFlag(FLAGS_history));
  const std::string interval = absl::FormatDuration(absl::GetFlag(FLAGS_prom_interval));
  std::printf(
      "query_bench: %d hosts x %d processes, %d syscall latencies per host per 10 s window, %s of "
      "history. Andon: an andon-aggregator as the tree's root, holding the fleet-wide series a "
      "leaf forwards (host dropped), loaded over gRPC Ingest.Push and queried over gRPC Query. "
      "Prometheus 2.42: every host's series (syscalls_total{host,comm} and "
      "syscall_latency_seconds_bucket{host,le}, 10 us doubling to 20 ms) every %s, backfilled "
      "with promtool and queried over its HTTP API. %d runs of each query; latency at the "
      "client, CPU the server's.\n\n",
      absl::GetFlag(FLAGS_hosts), absl::GetFlag(FLAGS_comms), absl::GetFlag(FLAGS_samples),
      history.c_str(), interval.c_str(), queries);
  std::vector<std::string> rows;
  int rc = 0;

  // Andon.
  const std::string addr = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  const std::string http = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  auto agg = testing::Subprocess::Start(
      {testing::BinDir() + "/andon-aggregator", "--id", "root-bench", "--grpc_addr", addr,
       "--http_addr", http, "--data_dir", (dir / "andon").string(), "--controller", ""},
      (dir / "aggregator.log").string());
  if (!agg.ok()) {
    std::fprintf(stderr, "cannot start aggregator: %s\n",
                 std::string(agg.status().message()).c_str());
    return 1;
  }
  auto query_stub =
      v1::Query::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  absl::StatusOr<int64_t> loaded = absl::UnavailableError("not started");
  for (int attempt = 0; attempt < 50 && !loaded.ok(); ++attempt) {
    absl::SleepFor(absl::Milliseconds(200));
    loaded = LoadAndon(f, addr);
  }
  if (!loaded.ok()) {
    std::fprintf(stderr, "query_bench: loading Andon: %s\n",
                 std::string(loaded.status().message()).c_str());
    return 1;
  }
  const absl::Time end = absl::FromUnixNanos(f.end_ns);
  auto andon_query = [&](v1::QueryRequest req, v1::QueryResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status st = query_stub->Query(&ctx, req, resp);
    if (!st.ok()) std::fprintf(stderr, "andon query: %s\n", st.error_message().c_str());
    return st.ok();
  };
  v1::QueryRequest top;
  top.set_metric("syscalls");
  top.add_group_by("comm");
  *top.mutable_start() = ToProtoTime(end - absl::Minutes(5));
  *top.mutable_end() = ToProtoTime(end);
  top.mutable_step()->set_seconds(300);
  top.set_fn("topk(10)");
  rows.push_back(Row("Andon", "top 10 processes, 5 min",
                     Time(agg->pid(), queries,
                          [&] {
                            v1::QueryResponse resp;
                            if (!andon_query(top, &resp)) return std::string("FAILED");
                            std::vector<std::pair<std::string, double>> got;
                            for (const v1::Series& s : resp.series()) {
                              for (const v1::Label& l : s.labels()) {
                                if (l.name() == "comm") got.emplace_back(l.value(), s.total());
                              }
                            }
                            return CompareTop(f, got);
                          }),
                     queries));
  v1::QueryRequest p99;
  p99.set_metric("syscall_latency_ns");
  *p99.mutable_start() = ToProtoTime(end - absl::Hours(1));
  *p99.mutable_end() = ToProtoTime(end);
  p99.mutable_step()->set_seconds(60);
  p99.set_fn("quantile(0.99)");
  rows.push_back(Row("Andon", "fleet p99 latency, 1 h at 1 min",
                     Time(agg->pid(), queries,
                          [&] {
                            v1::QueryResponse resp;
                            if (!andon_query(p99, &resp)) return std::string("FAILED");
                            std::map<int64_t, double> got;
                            for (const v1::Series& s : resp.series()) {
                              for (const v1::SamplePoint& p : s.points()) {
                                got[p.time_ms() * 1'000'000] = p.value();
                              }
                            }
                            return CompareP99(f, got);
                          }),
                     queries));
  const double andon_rss = RssMibOf(agg->pid());
  agg->Stop(SIGTERM, absl::Seconds(10));

  // Prometheus.
  const std::string prometheus = absl::GetFlag(FLAGS_prometheus);
  const std::string promtool = absl::GetFlag(FLAGS_promtool);
  double prom_rss = 0;
  if (!prometheus.empty() && fs::exists(prometheus) && fs::exists(promtool)) {
    std::fprintf(stderr, "query_bench: backfilling Prometheus\n");
    if (absl::Status s = LoadPrometheus(f, promtool, dir); !s.ok()) {
      std::fprintf(stderr, "query_bench: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    const int port = testing::PickFreePort();
    {
      std::ofstream config(dir / "prometheus.yml");
      config << "global: {}\nscrape_configs: []\n";
    }
    auto prom = testing::Subprocess::Start(
        {prometheus, "--config.file=" + (dir / "prometheus.yml").string(),
         "--storage.tsdb.path=" + (dir / "tsdb").string(), "--storage.tsdb.retention.time=30d",
         absl::StrCat("--web.listen-address=127.0.0.1:", port)},
        (dir / "prometheus.log").string());
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(120, 0);
    bool ready = false;
    for (int i = 0; prom.ok() && i < 600 && !ready; ++i) {
      auto res = client.Get("/-/ready");
      ready = res && res->status == 200;
      if (!ready) absl::SleepFor(absl::Milliseconds(100));
    }
    if (!ready) {
      std::fprintf(stderr, "cannot start %s (log: %s/prometheus.log)\n", prometheus.c_str(),
                   dir.c_str());
      return 1;
    }
    const int64_t end_s = f.end_ns / 1'000'000'000;
    auto promql = [&](const std::string& path, const httplib::Params& params) -> std::string {
      auto res = client.Post(path, params);
      if (!res || res->status != 200) {
        std::fprintf(stderr, "promql: %s\n", res ? res->body.c_str() : "no answer");
        return "";
      }
      return res->body;
    };
    rows.push_back(
        Row("Prometheus 2.42", "top 10 processes, 5 min",
            Time(prom->pid(), queries,
                 [&] {
                   const std::string body =
                       promql("/api/v1/query",
                              {{"query", "topk(10, sum by (comm) (increase(syscalls_total[5m])))"},
                               {"time", absl::StrCat(end_s)}});
                   // {"metric":{"comm":"proc3"},"value":[t,"123"]}: read without a JSON library.
                   std::vector<std::pair<std::string, double>> got;
                   for (size_t at = body.find("\"comm\":\""); at != std::string::npos;
                        at = body.find("\"comm\":\"", at + 1)) {
                     const size_t name = at + 8;
                     const std::string comm = body.substr(name, body.find('"', name) - name);
                     const size_t v = body.find(",\"", body.find("\"value\":[", at)) + 2;
                     double value = 0;
                     (void)absl::SimpleAtod(body.substr(v, body.find('"', v) - v), &value);
                     got.emplace_back(comm, value);
                   }
                   return CompareTop(f, got);
                 }),
            queries));
    rows.push_back(Row("Prometheus 2.42", "fleet p99 latency, 1 h at 1 min",
                       Time(prom->pid(), queries,
                            [&] {
                              const std::string body =
                                  promql("/api/v1/query_range",
                                         {{"query",
                                           "histogram_quantile(0.99, sum by (le) "
                                           "(rate(syscall_latency_seconds_bucket[2m])))"},
                                          {"start", absl::StrCat(end_s - 3600 + 60)},
                                          {"end", absl::StrCat(end_s)},
                                          {"step", "60"}});
                              // "values":[[t,"v"],...]: a value at t estimates the minute before
                              // it.
                              std::map<int64_t, double> got;
                              for (size_t at = body.find("[", body.find("\"values\":[") + 10);
                                   at != std::string::npos && body.compare(at, 1, "[") == 0;) {
                                const size_t comma = body.find(',', at);
                                double t = 0, v = 0;
                                (void)absl::SimpleAtod(body.substr(at + 1, comma - at - 1), &t);
                                const size_t q = comma + 2;
                                (void)absl::SimpleAtod(body.substr(q, body.find('"', q) - q), &v);
                                got[(static_cast<int64_t>(t) - 60) * 1'000'000'000] = v * 1e9;
                                at = body.find("],", q);
                                at = at == std::string::npos ? at : at + 2;
                              }
                              return CompareP99(f, got);
                            }),
                       queries));
    prom_rss = RssMibOf(prom->pid());
    prom->Stop(SIGTERM, absl::Seconds(30));
  } else {
    std::fprintf(stderr, "query_bench: no Prometheus at '%s': Andon only\n", prometheus.c_str());
  }

  std::printf("| server | query | p50 ms | p99 ms | server CPU ms per query | answer |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const std::string& r : rows) std::printf("%s\n", r.c_str());
  std::printf(
      "\nPoints loaded into Andon's root: %lld (%zu series). Server RSS after the queries: "
      "Andon %.0f MiB, Prometheus %.0f MiB.\n",
      static_cast<long long>(*loaded), f.comms.size() + 1, andon_rss, prom_rss);
  std::printf("Goals: p99 under 100 ms and at most a quarter of Prometheus's.\n");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
