// Distributions at fleet size: how long merging one latency histogram per
// host (10,000 by default) takes, and how close the merged quantiles are to
// the exact quantiles of every raw value of every host.
//
// Each host's window holds --samples request latencies, log-normal around a
// host's own median (itself log-normal around 1 ms; one host in fifty is
// eight times slower), built into Andon's distribution as an agent does and
// serialized as it travels. The merge is timed three ways: DistributionMerger
// over parsed values (what a query does with stored windows), the same from
// the wire bytes (parse included, what an aggregator receiving them does),
// and folding MergeDistribution over the protos. CPU time is the merging
// thread's.
//
// The peer's figure: Prometheus's histogram_quantile over its default
// buckets (5 ms ... 10 s) holding the same values, computed here with the
// interpolation Prometheus uses (linear within the bucket holding the rank;
// the lower bound of the first bucket is 0).
//
// Prints a markdown table (bench/run.sh puts it in bench/RESULTS.md).

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "andon/v1/types.pb.h"
#include "common/value/distribution.h"
#include "common/value/distribution_merger.h"

ABSL_FLAG(int, hosts, 10000, "host distributions merged");
ABSL_FLAG(int, samples, 1000, "latencies per host window");
ABSL_FLAG(int, runs, 30, "merges timed, per way");
ABSL_FLAG(uint64_t, seed, 1, "random seed");

namespace andon::bench {
namespace {

double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Nearest rank: the value of rank max(1, ceil(q * n)) (as distribution.h
// defines the exact quantile).
double ExactQuantile(const std::vector<uint64_t>& sorted, double q) {
  const size_t n = sorted.size();
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  return static_cast<double>(sorted[rank - 1]);
}

// Prometheus's histogram_quantile over cumulative buckets (upper bounds
// `le`, the last one +Inf).
double PrometheusQuantile(const std::vector<double>& le, const std::vector<uint64_t>& cumulative,
                          double q) {
  const double total = static_cast<double>(cumulative.back());
  const double rank = q * total;
  size_t b = 0;
  while (b < cumulative.size() && static_cast<double>(cumulative[b]) < rank) ++b;
  if (b == le.size() - 1) return le[le.size() - 2];  // the +Inf bucket
  const double start = b == 0 ? 0 : le[b - 1];
  const double below = b == 0 ? 0 : static_cast<double>(cumulative[b - 1]);
  const double in = static_cast<double>(cumulative[b]) - below;
  return start + (le[b] - start) * (rank - below) / in;
}

struct Timing {
  std::vector<double> cpu_ms, wall_ms;
  void Add(double cpu, double wall) {
    cpu_ms.push_back(cpu);
    wall_ms.push_back(wall);
  }
  static double Median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  static double Max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
};

template <typename Fn>
Timing Time(int runs, Fn merge) {
  Timing t;
  for (int r = 0; r < runs; ++r) {
    const double cpu0 = ThreadCpuMs();
    const absl::Time wall0 = absl::Now();
    merge();
    t.Add(ThreadCpuMs() - cpu0, absl::ToDoubleMilliseconds(absl::Now() - wall0));
  }
  return t;
}

int Run() {
  const int hosts = absl::GetFlag(FLAGS_hosts);
  const int samples = absl::GetFlag(FLAGS_samples);
  const int runs = absl::GetFlag(FLAGS_runs);
  if (hosts < 1 || samples < 1 || runs < 1) {
    std::fprintf(stderr, "distribution_merge: --hosts, --samples and --runs must be positive\n");
    return 2;
  }
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::normal_distribution<double> host_spread(0, 0.25), request_spread(0, 0.6);

  // Prometheus's default buckets, in nanoseconds.
  const std::vector<double> le = {5e6, 1e7, 2.5e7, 5e7, 1e8,  2.5e8,
                                  5e8, 1e9, 2.5e9, 5e9, 1e10, INFINITY};
  std::vector<uint64_t> prom_counts(le.size(), 0);

  std::vector<uint64_t> all;
  all.reserve(static_cast<size_t>(hosts) * samples);
  std::vector<v1::Distribution> values(hosts);
  std::vector<std::string> wire(hosts);
  size_t wire_bytes = 0, buckets = 0;
  for (int h = 0; h < hosts; ++h) {
    const double median = 1e6 * std::exp(host_spread(rng)) * (h % 50 == 7 ? 8 : 1);
    DistributionBuilder builder;
    for (int s = 0; s < samples; ++s) {
      const uint64_t v = static_cast<uint64_t>(median * std::exp(request_spread(rng)));
      builder.Add(v);
      all.push_back(v);
      size_t b = 0;
      while (static_cast<double>(v) > le[b]) ++b;
      ++prom_counts[b];
    }
    values[h] = builder.ToProto();
    wire[h] = values[h].SerializeAsString();
    wire_bytes += wire[h].size();
    buckets += static_cast<size_t>(DistributionBucketCount(values[h]));
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> cumulative(le.size());
  uint64_t running = 0;
  for (size_t b = 0; b < le.size(); ++b) cumulative[b] = running += prom_counts[b];

  v1::Distribution merged;
  const Timing merger = Time(runs, [&] {
    DistributionMerger m;
    for (const v1::Distribution& d : values) (void)m.Add(d);
    merged = m.ToProto();
  });
  const Timing from_wire = Time(runs, [&] {
    DistributionMerger m;
    v1::Distribution d;
    for (const std::string& bytes : wire) {
      d.ParseFromString(bytes);
      (void)m.Add(d);
    }
    merged = m.ToProto();
  });
  v1::Distribution folded;
  const Timing fold = Time(std::max(1, runs / 10), [&] {
    folded.Clear();
    for (const v1::Distribution& d : values) (void)MergeDistribution(d, folded);
  });
  const bool same = DistributionQuantile(folded, 0.99) == DistributionQuantile(merged, 0.99) &&
                    folded.count() == merged.count();

  std::printf(
      "distribution_merge: %d host distributions, %d log-normal latencies each (host medians "
      "log-normal around 1 ms, one host in fifty 8x slower), %d merges timed per way; CPU is the "
      "merging thread's. Prometheus: histogram_quantile over its default buckets (5 ms to 10 s) "
      "holding the same values, computed with Prometheus's interpolation.\n\n",
      hosts, samples, runs);
  std::printf(
      "| merge of %d host distributions | CPU ms, median | CPU ms, max | wall ms, median |\n",
      hosts);
  std::printf("|---|---|---|---|\n");
  auto row = [](const char* name, const Timing& t) {
    std::printf("| %s | %.2f | %.2f | %.2f |\n", name, Timing::Median(t.cpu_ms),
                Timing::Max(t.cpu_ms), Timing::Median(t.wall_ms));
  };
  row("DistributionMerger, parsed values (query)", merger);
  row("DistributionMerger, from wire bytes (parse included)", from_wire);
  row("MergeDistribution, folded pairwise", fold);
  std::printf(
      "\nSize: %.0f bytes and %.0f buckets per host distribution on the wire (mean); "
      "merged: %d buckets. The fold and the merger agree: %s.\n\n",
      static_cast<double>(wire_bytes) / hosts, static_cast<double>(buckets) / hosts,
      DistributionBucketCount(merged), same ? "yes" : "NO");
  std::printf(
      "| quantile | exact (all %zu values) | Andon merged | Andon error | Prometheus "
      "default buckets | Prometheus error |\n",
      all.size());
  std::printf("|---|---|---|---|---|---|\n");
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = ExactQuantile(all, q);
    const double andon = DistributionQuantile(merged, q);
    const double prom = PrometheusQuantile(le, cumulative, q);
    std::printf("| p%g | %.3f ms | %.3f ms | %+.3f %% | %.3f ms | %+.1f %% |\n", q * 100,
                exact / 1e6, andon / 1e6, 100 * (andon - exact) / exact, prom / 1e6,
                100 * (prom - exact) / exact);
  }
  std::printf(
      "\nGoals: merged p99 within 1 %% of the exact p99; merging %d host histograms in at "
      "most 10 ms.\n",
      hosts);
  return same ? 0 : 1;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
