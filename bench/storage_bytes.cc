// Disk cost of stored windows: writes the same synthetic fleet data into
// Andon's series store (in this process, RocksDB in a temporary directory)
// and, through `promtool tsdb create-blocks-from openmetrics`, into
// Prometheus's TSDB, and prints bytes per point of each after compaction,
// with the CPU time each took. Datasets: counters with random values,
// counters of a steady workload, and latency distributions (Andon only:
// Prometheus would need one series per bucket).

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "aggregator/storage/rocksdb_series_store.h"
#include "bench/promtool.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/value/distribution.h"

ABSL_FLAG(int, hosts, 20, "simulated hosts");
ABSL_FLAG(int, series, 200, "series per host");
ABSL_FLAG(int, windows, 1800, "1 s windows per series");
ABSL_FLAG(int, distribution_series, 400, "latency distribution series (all hosts together)");
ABSL_FLAG(std::string, promtool, "/usr/bin/promtool",
          "Prometheus's promtool, the peer; empty or missing: Andon only");

namespace andon::bench {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

namespace fs = std::filesystem;

uint64_t DirBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

double CpuSeconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

double SelfCpu() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return CpuSeconds(r);
}

enum class Data { kRandom, kSteady, kLatency };

const char* DataName(Data d) {
  switch (d) {
    case Data::kRandom:
      return "counters, random values (uniform 0-9999)";
    case Data::kSteady:
      return "counters, steady workload (Poisson, mean 50)";
    case Data::kLatency:
      return "latency distributions (200 samples/window, log-normal around 1 ms)";
  }
  return "";
}

struct Series {
  std::string host, comm, syscall;
};

std::vector<Series> MakeSeries(int hosts, int per_host) {
  std::vector<Series> out;
  for (int h = 0; h < hosts; ++h) {
    for (int i = 0; i < per_host; ++i) {
      out.push_back(
          {absl::StrCat("host-", h), absl::StrCat("proc", i % 50), absl::StrCat("sys", i / 50)});
    }
  }
  return out;
}

// A cheap generator seeded per value (mt19937's seeding would cost more
// than the store's write).
class SplitMix {
 public:
  using result_type = uint64_t;
  explicit SplitMix(uint64_t seed) : x_(seed) {}
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return UINT64_MAX; }
  uint64_t operator()() { return Mix64(x_ += 0x9e3779b97f4a7c15ull); }

 private:
  uint64_t x_;
};

// The value of series `s` in window `w`, the same for both stores.
class Values {
 public:
  explicit Values(Data data) : data_(data) {}
  uint64_t Counter(size_t s, int w) {
    SplitMix rng(s * 1000003 + static_cast<uint64_t>(w));
    if (data_ == Data::kRandom) return std::uniform_int_distribution<uint64_t>(0, 9999)(rng);
    return std::poisson_distribution<uint64_t>(50)(rng);
  }
  v1::Distribution Latency(size_t s, int w) {
    SplitMix rng(s * 1000003 + static_cast<uint64_t>(w));
    std::lognormal_distribution<double> ns(std::log(1e6), 0.5);
    DistributionBuilder b;
    for (int i = 0; i < 200; ++i) b.Add(static_cast<uint64_t>(ns(rng)));
    return b.ToProto();
  }

 private:
  Data data_;
};

struct Figures {
  uint64_t points = 0;
  uint64_t bytes = 0;      // whole data dir
  uint64_t raw_bytes = 0;  // raw level only (Andon)
  double cpu_s = 0;
};

absl::StatusOr<Figures> RunAndon(Data data, const std::vector<Series>& series, int windows,
                                 int64_t t0_ns, const fs::path& dir) {
  // The store's clock follows the windows, as if they arrived live.
  FakeClock clock(absl::FromUnixNanos(t0_ns));
  aggregator::StoreOptions options;
  options.clock = &clock;
  options.retention = *aggregator::ParseRetention("raw=30d,10s=30d,1m=30d,1h=400d");
  absl::StatusOr<std::unique_ptr<aggregator::RocksDbSeriesStore>> store =
      aggregator::RocksDbSeriesStore::Open(dir.string(), options);
  if (!store.ok()) return store.status();
  Values values(data);
  const double cpu0 = SelfCpu();
  Figures f;
  uint64_t seq = 0;
  for (int w = 0; w < windows; ++w) {
    clock.Set(absl::FromUnixNanos(t0_ns + (w + 1) * kSecondNs));
    v1::IngestBatch batch;
    batch.set_sender_id("bench");
    for (size_t s = 0; s < series.size(); ++s) {
      v1::Point* p = batch.add_points();
      v1::SeriesKey* key = p->mutable_series();
      key->set_metric(data == Data::kLatency ? "syscall_latency_ns" : "syscalls");
      for (auto [n, v] : {std::pair<const char*, const std::string&>{"comm", series[s].comm},
                          {"host", series[s].host},
                          {"syscall", series[s].syscall}}) {
        v1::Label* l = key->add_labels();
        l->set_name(n);
        l->set_value(v);
      }
      p->set_window_start_ns(t0_ns + w * kSecondNs);
      p->set_window_ns(kSecondNs);
      if (data == Data::kLatency) {
        *p->mutable_value()->mutable_distribution() = values.Latency(s, w);
      } else {
        p->mutable_value()->set_counter(values.Counter(s, w));
      }
      if (batch.points_size() == 10000 || s + 1 == series.size()) {
        batch.set_sequence(++seq);
        absl::StatusOr<aggregator::ApplyResult> r = (*store)->ApplyBatch(batch);
        if (!r.ok()) return r.status();
        f.points += static_cast<uint64_t>(r->points_applied);
        batch.clear_points();
      }
    }
  }
  clock.Set(absl::FromUnixNanos(t0_ns + (windows + 60) * kSecondNs));
  if (absl::Status s = (*store)->RollUpBefore(t0_ns + (windows + 10) * kSecondNs); !s.ok()) {
    return s;
  }
  if (absl::Status s = (*store)->CompactAll(); !s.ok()) return s;
  f.cpu_s = SelfCpu() - cpu0;
  absl::StatusOr<std::array<uint64_t, aggregator::kLevelCount>> levels = (*store)->BytesByLevel();
  if (!levels.ok()) return levels.status();
  f.raw_bytes = (*levels)[0];
  if (absl::Status s = (*store)->Close(); !s.ok()) return s;
  // The data dir's files, without RocksDB's text logs.
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("LOG", 0) != 0) f.bytes += e.file_size();
  }
  return f;
}

absl::StatusOr<Figures> RunPrometheus(Data data, const std::vector<Series>& series, int windows,
                                      int64_t t0_ns, const fs::path& work,
                                      const std::string& promtool) {
  const fs::path input = work / "input.om";
  const fs::path out = work / "tsdb";
  fs::create_directories(out);
  Values values(data);
  {
    std::ofstream om(input);
    om << "# TYPE syscalls gauge\n";
    for (size_t s = 0; s < series.size(); ++s) {
      const std::string labels =
          absl::StrCat("{comm=\"", series[s].comm, "\",host=\"", series[s].host, "\",syscall=\"",
                       series[s].syscall, "\"} ");
      for (int w = 0; w < windows; ++w) {
        om << "syscalls" << labels << values.Counter(s, w) << ' ' << (t0_ns / kSecondNs + w)
           << '\n';
      }
    }
    om << "# EOF\n";
  }
  absl::StatusOr<double> cpu = BackfillWithPromtool(promtool, input.string(), out.string());
  if (!cpu.ok()) return cpu.status();
  fs::remove(input);
  Figures f;
  f.points = series.size() * static_cast<uint64_t>(windows);
  f.bytes = DirBytes(out);
  f.cpu_s = *cpu;
  return f;
}

int Main() {
  const int windows = absl::GetFlag(FLAGS_windows);
  const std::vector<Series> counters =
      MakeSeries(absl::GetFlag(FLAGS_hosts), absl::GetFlag(FLAGS_series));
  const std::vector<Series> latencies = MakeSeries(1, absl::GetFlag(FLAGS_distribution_series));
  std::string promtool = absl::GetFlag(FLAGS_promtool);
  if (!promtool.empty() && !fs::exists(promtool)) {
    std::fprintf(stderr, "storage_bytes: %s not found; measuring Andon only\n", promtool.c_str());
    promtool.clear();
  }
  // Windows of the last `windows` seconds, starting on an hour.
  const int64_t hour = 3600 * kSecondNs;
  const int64_t t0_ns = (absl::ToUnixNanos(absl::Now()) - windows * kSecondNs) / hour * hour;
  const fs::path work = fs::temp_directory_path() / absl::StrCat("andon_storage_bytes_", getpid());

  std::printf(
      "storage_bytes: %zu counter series (%d hosts x %d) and %zu distribution series, %d "
      "one-second "
      "windows each, written in time order, then compacted. Andon stores each window at the raw "
      "level and in its 10 s, 1 min and 1 h windows: \"all levels\" counts every byte of the data "
      "dir, \"raw level\" the raw windows alone (what Prometheus holds). Prometheus: promtool tsdb "
      "create-blocks-from openmetrics on the same values, whole block directory.\n\n",
      counters.size(), absl::GetFlag(FLAGS_hosts), absl::GetFlag(FLAGS_series), latencies.size(),
      windows);
  std::printf(
      "| data | points | Andon bytes/point, all levels | Andon bytes/point, raw level | Andon "
      "CPU s | Prometheus bytes/point | Prometheus CPU s | Andon all levels / Prometheus |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  int rc = 0;
  for (Data data : {Data::kRandom, Data::kSteady, Data::kLatency}) {
    const std::vector<Series>& series = data == Data::kLatency ? latencies : counters;
    fs::remove_all(work);
    fs::create_directories(work / "andon");
    absl::StatusOr<Figures> andon = RunAndon(data, series, windows, t0_ns, work / "andon");
    if (!andon.ok()) {
      std::fprintf(stderr, "storage_bytes: andon: %s\n", andon.status().ToString().c_str());
      rc = 1;
      continue;
    }
    const double a = static_cast<double>(andon->bytes) / static_cast<double>(andon->points);
    const double a_raw = static_cast<double>(andon->raw_bytes) / static_cast<double>(andon->points);
    std::string prom = "-", prom_cpu = "-", ratio = "-";
    if (!promtool.empty() && data != Data::kLatency) {
      absl::StatusOr<Figures> p = RunPrometheus(data, series, windows, t0_ns, work, promtool);
      if (p.ok()) {
        const double b = static_cast<double>(p->bytes) / static_cast<double>(p->points);
        prom = absl::StrFormat("%.2f", b);
        prom_cpu = absl::StrFormat("%.1f", p->cpu_s);
        ratio = absl::StrFormat("%.2f", a / b);
      } else {
        std::fprintf(stderr, "storage_bytes: prometheus: %s\n", p.status().ToString().c_str());
        rc = 1;
      }
    }
    std::printf("| %s | %llu | %.2f | %.2f | %.1f | %s | %s | %s |\n", DataName(data),
                static_cast<unsigned long long>(andon->points), a, a_raw, andon->cpu_s,
                prom.c_str(), prom_cpu.c_str(), ratio.c_str());
    std::fflush(stdout);
  }
  fs::remove_all(work);
  return rc;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Main();
}
