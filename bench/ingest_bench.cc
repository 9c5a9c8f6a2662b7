// Ingest throughput, live, Andon against Prometheus in the same run: N
// streams, each on its own connection, carry the windows of their share of H
// simulated hosts (each `series` counter points) to a real andon-aggregator
// (RocksDB in a temporary directory), then the same load to a real
// Prometheus 2.42 server's remote-write receiver. Every batch is a host's
// window of the second before now, and each host sends at most one window a
// second, as agents do; hosts a server cannot take in a second skip it. A
// warm-up sends every host once (its series are new then) before the
// measured phase. Prints points/s accepted, the server's CPU time and points
// per CPU-second, its RSS, and the ratio per core.

#include <grpcpp/create_channel.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "bench/proc_usage.h"
#include "bench/remote_write.h"
#include "common/series_dict.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/subprocess.h"

ABSL_FLAG(int, agents, 32, "streams, one connection each");
ABSL_FLAG(bool, series_refs, true,
          "Andon: measure first with each series crossing a stream once, numbered "
          "(IngestBatch.series_defs), as agents send them, then whole with every point; "
          "false: whole only");
ABSL_FLAG(int, hosts, 2000, "simulated hosts, spread over the streams");
ABSL_FLAG(int, series, 200, "counter series per host per 1 s window");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "how long each measured phase lasts");
ABSL_FLAG(std::string, prometheus, "/usr/bin/prometheus",
          "the peer's server binary; empty or missing: Andon only");

namespace andon::bench {
namespace {

// The series of one host: syscalls{comm, host, syscall}.
struct SeriesName {
  std::string comm, syscall;
};

std::vector<SeriesName> SeriesNames(int series) {
  std::vector<SeriesName> out;
  for (int i = 0; i < series; ++i) {
    out.push_back({absl::StrCat("proc", i % 50), absl::StrCat("sys", i / 50)});
  }
  return out;
}

uint64_t CounterValue(int i, int64_t window_s) {
  return 1 + static_cast<uint64_t>(i + window_s) % 97;
}

// One stream's connection to the server under test.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual bool Send(const std::string& host, uint64_t seq, int64_t window_s) = 0;
  // Ends the stream; the points the server accepted on it.
  virtual int64_t Finish() = 0;
};
using SinkFactory = std::function<std::unique_ptr<Sink>(int stream, bool measured)>;

class AndonSink final : public Sink {
 public:
  AndonSink(const std::string& addr, int stream, bool measured,
            const std::vector<SeriesName>* names, bool numbered)
      : names_(names), numbered_(numbered) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetString("andon.bench.agent", absl::StrCat(stream, measured));  // one connection each
    stub_ = v1::Ingest::NewStub(
        grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args));
    writer_ = stub_->Push(&ctx_, &ack_);
  }
  bool Send(const std::string& host, uint64_t seq, int64_t window_s) override {
    v1::IngestBatch b;
    b.set_sender_id(host);
    b.set_sender_kind(v1::AGENT);
    b.set_sequence(seq);
    for (size_t i = 0; i < names_->size(); ++i) {
      auto* p = b.add_points();
      auto* key = p->mutable_series();
      key->set_metric("syscalls");
      for (auto [n, v] : {std::pair<const char*, const std::string*>{"comm", &(*names_)[i].comm},
                          {"host", &host},
                          {"syscall", &(*names_)[i].syscall}}) {
        auto* l = key->add_labels();
        l->set_name(n);
        l->set_value(*v);
      }
      p->set_window_start_ns(window_s * 1000000000);
      p->set_window_ns(1000000000);
      p->mutable_value()->set_counter(CounterValue(static_cast<int>(i), window_s));
    }
    if (numbered_) dict_.Encode(b);
    return writer_->Write(b);
  }
  int64_t Finish() override {
    writer_->WritesDone();
    grpc::Status st = writer_->Finish();
    if (!st.ok()) {
      std::fprintf(stderr, "andon stream: %s\n", st.error_message().c_str());
      return -1;
    }
    return ack_.points_accepted();
  }

 private:
  const std::vector<SeriesName>* names_;
  const bool numbered_;
  SeriesDictEncoder dict_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  grpc::ClientContext ctx_;
  v1::IngestAck ack_;
  std::unique_ptr<grpc::ClientWriter<v1::IngestBatch>> writer_;
};

class PrometheusSink final : public Sink {
 public:
  PrometheusSink(int port, const std::vector<SeriesName>* names)
      : names_(names), client_("127.0.0.1", port) {
    client_.set_keep_alive(true);
    client_.set_read_timeout(30, 0);
  }
  bool Send(const std::string& host, uint64_t /*seq*/, int64_t window_s) override {
    std::vector<PromSeries> series(names_->size());
    for (size_t i = 0; i < names_->size(); ++i) {
      series[i].labels = {{"__name__", "syscalls"},
                          {"comm", (*names_)[i].comm},
                          {"host", host},
                          {"syscall", (*names_)[i].syscall}};
      series[i].value = static_cast<double>(CounterValue(static_cast<int>(i), window_s));
      series[i].timestamp_ms = window_s * 1000;
    }
    httplib::Headers headers = {{"Content-Encoding", "snappy"},
                                {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
    auto res = client_.Post("/api/v1/write", headers, EncodeWriteRequest(series),
                            "application/x-protobuf");
    if (!res || (res->status != 204 && res->status != 200)) {
      if (errors_++ == 0) {
        std::fprintf(stderr, "prometheus: remote write failed: %s\n",
                     res ? absl::StrCat(res->status, " ", res->body).c_str()
                         : httplib::to_string(res.error()).c_str());
      }
      return errors_ < 100;  // a few refusals (out of order) are not fatal
    }
    accepted_ += static_cast<int64_t>(names_->size());
    return true;
  }
  int64_t Finish() override { return accepted_; }

 private:
  const std::vector<SeriesName>* names_;
  httplib::Client client_;
  int64_t accepted_ = 0;
  int errors_ = 0;
};

struct LoadResult {
  double secs = 0;
  int64_t points = 0;
  int64_t failures = 0;
  int64_t skipped = 0;
  double cpu_s = 0;
  double rss_mib = 0;
};

LoadResult RunLoad(int streams, int hosts, absl::Duration duration, pid_t server,
                   const SinkFactory& sinks) {
  // A simulated host: its sequence and the last window it sent.
  struct Host {
    std::string id;
    uint64_t seq = 0;
    int64_t last_window = 0;
  };
  std::atomic<int64_t> points{0}, failures{0}, skipped{0};
  absl::Mutex mu;
  int warm = 0;
  bool measuring = false;
  absl::Time start, stop;
  absl::StatusOr<ProcCpu> cpu0;
  auto push = [&](std::unique_ptr<Sink> sink, std::vector<Host>& mine, bool measured) {
    bool ok = true;
    if (!measured) {
      const int64_t window = absl::ToUnixSeconds(absl::Now()) - 1;
      for (Host& h : mine) {
        ok = ok && sink->Send(h.id, ++h.seq, window);
        h.last_window = window;
      }
    } else {
      size_t next = 0;
      while (ok && absl::Now() < stop) {
        const int64_t window = absl::ToUnixSeconds(absl::Now()) - 1;
        Host& h = mine[next];
        next = (next + 1) % mine.size();
        if (h.last_window >= window) {
          // Every host of this stream sent this second's window: wait.
          if (next == 0) absl::SleepFor(absl::Milliseconds(5));
          continue;
        }
        skipped += window - h.last_window - 1;
        h.last_window = window;
        ok = sink->Send(h.id, ++h.seq, window);
      }
    }
    const int64_t accepted = sink->Finish();
    if (!ok || accepted < 0) ++failures;
    if (measured && accepted > 0) points += accepted;
  };
  std::vector<std::thread> threads;
  for (int a = 0; a < streams; ++a) {
    threads.emplace_back([&, a] {
      std::vector<Host> mine;  // this stream's hosts: a, a + streams, ...
      for (int h = a; h < hosts; h += streams) mine.push_back({absl::StrCat("bench-host-", h)});
      push(sinks(a, false), mine, false);
      {
        absl::MutexLock lock(&mu);
        // The last warmed-up stream starts the measured phase for all.
        if (++warm == streams) {
          cpu0 = ReadProcCpu(server);
          start = absl::Now();
          stop = start + duration;
          measuring = true;
        }
        mu.Await(absl::Condition(&measuring));
      }
      push(sinks(a, true), mine, true);
    });
  }
  for (auto& t : threads) t.join();
  LoadResult r;
  r.secs = absl::ToDoubleSeconds(absl::Now() - start);
  absl::StatusOr<ProcCpu> cpu1 = ReadProcCpu(server);
  if (cpu0.ok() && cpu1.ok()) {
    r.cpu_s = (cpu1->user_s + cpu1->system_s) - (cpu0->user_s + cpu0->system_s);
  }
  r.points = points;
  r.failures = failures;
  r.skipped = skipped;
  r.rss_mib = RssMibOf(server);
  return r;
}

void PrintRow(const char* who, const LoadResult& r) {
  std::printf("| %s | %.0f | %.2f | %.0f | %.0f | %lld | %lld |\n", who, r.points / r.secs,
              r.cpu_s / r.secs, r.cpu_s > 0 ? r.points / r.cpu_s : 0, r.rss_mib,
              static_cast<long long>(r.skipped), static_cast<long long>(r.failures));
  std::fflush(stdout);
}

bool WaitReady(int port) {
  httplib::Client client("127.0.0.1", port);
  for (int i = 0; i < 300; ++i) {
    auto res = client.Get("/-/ready");
    if (res && res->status == 200) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

int Run() {
  const int agents = absl::GetFlag(FLAGS_agents);
  const int hosts = std::max(absl::GetFlag(FLAGS_hosts), agents);
  const int series = absl::GetFlag(FLAGS_series);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const std::vector<SeriesName> names = SeriesNames(series);

  char tmpl[] = "/tmp/andon-bench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::printf(
      "ingest_bench: %d hosts x %d counter series, each host's window of the last second at most "
      "once a second, over %d streams (one connection each); %s measured per server after a "
      "warm-up that sent every host once. Andon: andon-aggregator over gRPC Ingest.Push; the first "
      "Andon row is the one compared. "
      "Prometheus: the remote-write receiver (--web.enable-remote-write-receiver), one snappy "
      "request per host window. CPU is the server process's.\n\n",
      hosts, series, agents, absl::FormatDuration(duration).c_str());
  std::printf(
      "| server | points/s accepted | server CPU (cores) | points per server CPU-second | server "
      "RSS MiB | host windows skipped | failed streams |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);

  // The first mode measured is the one compared with Prometheus.
  std::vector<bool> modes = {false};
  if (absl::GetFlag(FLAGS_series_refs)) modes.insert(modes.begin(), true);
  LoadResult andon;
  int rc = 0;
  for (size_t m = 0; m < modes.size(); ++m) {
    const std::string addr = absl::StrCat("127.0.0.1:", testing::PickFreePort());
    const std::string http = absl::StrCat("127.0.0.1:", testing::PickFreePort());
    auto agg = testing::Subprocess::Start(
        {testing::BinDir() + "/andon-aggregator", "--id", "agg-bench", "--grpc_addr", addr,
         "--http_addr", http, "--data_dir", absl::StrCat(dir, "/data", m), "--controller", ""},
        absl::StrCat(dir, "/aggregator", m, ".log"));
    if (!agg.ok()) {
      std::fprintf(stderr, "cannot start aggregator: %s\n",
                   std::string(agg.status().message()).c_str());
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(500));
    const LoadResult result = RunLoad(agents, hosts, duration, agg->pid(), [&](int s, bool meas) {
      return std::make_unique<AndonSink>(addr, s, meas, &names, modes[m]);
    });
    agg->Stop(SIGTERM, absl::Seconds(10));
    PrintRow(modes[m] ? "andon-aggregator (series numbered per stream, as agents send)"
                      : "andon-aggregator (series whole in every point)",
             result);
    if (result.failures > 0) rc = 1;
    if (m == 0) andon = result;
  }

  const std::string prometheus = absl::GetFlag(FLAGS_prometheus);
  if (!prometheus.empty() && std::filesystem::exists(prometheus)) {
    const int port = testing::PickFreePort();
    {
      std::ofstream config(dir + "/prometheus.yml");
      config << "global: {}\nscrape_configs: []\n";
    }
    auto prom = testing::Subprocess::Start(
        {prometheus, "--config.file=" + dir + "/prometheus.yml",
         "--storage.tsdb.path=" + dir + "/prometheus", "--web.enable-remote-write-receiver",
         absl::StrCat("--web.listen-address=127.0.0.1:", port)},
        dir + "/prometheus.log");
    if (!prom.ok() || !WaitReady(port)) {
      std::fprintf(stderr, "cannot start %s (log: %s/prometheus.log)\n", prometheus.c_str(),
                   dir.c_str());
      return 1;
    }
    const LoadResult peer = RunLoad(agents, hosts, duration, prom->pid(), [&](int, bool) {
      return std::make_unique<PrometheusSink>(port, &names);
    });
    prom->Stop(SIGTERM, absl::Seconds(30));
    PrintRow("Prometheus 2.42", peer);
    if (peer.cpu_s > 0 && andon.cpu_s > 0) {
      std::printf("\nAndon / Prometheus, points per CPU-second: %.2f\n",
                  (andon.points / andon.cpu_s) / (peer.points / peer.cpu_s));
    }
  } else {
    std::printf("\n(no Prometheus at '%s': Andon only)\n", prometheus.c_str());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
