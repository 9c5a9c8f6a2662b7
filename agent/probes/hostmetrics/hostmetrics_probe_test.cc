#include "agent/probes/hostmetrics/hostmetrics_probe.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

namespace fs = std::filesystem;

// Sums counters and keeps the last gauge value per series text.
struct Summary {
  std::map<std::string, uint64_t> counters;
  std::map<std::string, double> gauges;
};

Summary Summarize(const std::vector<v1::Point>& points) {
  Summary s;
  for (const v1::Point& p : points) {
    const std::string key = SeriesKeyToString(p.series());
    if (p.value().has_gauge()) {
      s.gauges[key] = p.value().gauge().last();
    } else {
      s.counters[key] += p.value().counter();
    }
  }
  return s;
}

// A procfs + sysfs fixture in a temporary directory.
class HostMetricsFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / absl::StrCat("hostmetrics_", getpid());
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc/net");
    fs::create_directories(root_ / "sys/block/sda");
    fs::create_directories(root_ / "sys/block/loop0");
    fs::create_directories(root_ / "sys/block/loop1");
    Write("proc/loadavg", "0.50 0.25 0.10 1/100 4242\n");
    Write("proc/meminfo",
          "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nBuffers: 50 kB\n"
          "Cached: 300 kB\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel) << text;
  }
  // One sample of the counters; USER_HZ is 100 in the fixture.
  void WriteCounters(uint64_t user_ticks, uint64_t sda_reads, uint64_t eth0_rx_bytes,
                     uint64_t loop1_reads) {
    Write("proc/stat", absl::StrCat("cpu  ", user_ticks,
                                    " 0 20 1000 0 0 0 0 0 0\n"
                                    "cpu0 1 0 0 0 0 0 0 0 0 0\n"));
    Write("proc/diskstats",
          absl::StrCat("   8 0 sda ", sda_reads, " 0 ", sda_reads * 8, " 0 7 0 56 0 0 0 0\n",
                       "   8 1 sda1 ", sda_reads, " 0 ", sda_reads * 8, " 0 7 0 56 0 0 0 0\n",
                       "   7 0 loop0 0 0 0 0 0 0 0 0 0 0 0\n", "   7 1 loop1 ", loop1_reads, " 0 ",
                       loop1_reads, " 0 0 0 0 0 0 0 0\n"));
    Write("proc/net/dev",
          absl::StrCat("Inter-| header\n face | header\n",
                       "    lo: 5000 50 0 0 0 0 0 0 5000 50 0 0 0 0 0 0\n",
                       "  eth0: ", eth0_rx_bytes, " 10 0 0 0 0 0 0 700 7 0 0 0 0 0 0\n"));
  }
  HostMetricsOptions Options() const {
    return {.proc_root = (root_ / "proc").string(),
            .sys_root = (root_ / "sys").string(),
            .ticks_per_second = 100};
  }

  fs::path root_;
  WindowAccumulator acc_{absl::Seconds(1), {}};
  const absl::Time t0_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(HostMetricsFixtureTest, FirstCollectTakesBaselinesThenEmitsDeltas) {
  WriteCounters(/*user_ticks=*/100, /*sda_reads=*/10, /*eth0_rx_bytes=*/1000, /*loop1_reads=*/0);
  HostMetricsProbe probe(Options());
  ASSERT_TRUE(probe.Init().ok());
  EXPECT_EQ(probe.status().attach_point(), "procfs");

  ASSERT_TRUE(probe.Collect(t0_, acc_).ok());
  Summary first = Summarize(acc_.Flush(t0_ + absl::Seconds(1)));
  EXPECT_TRUE(first.counters.empty()) << first.counters.begin()->first;
  EXPECT_DOUBLE_EQ(first.gauges["load_average{period=\"1m\"}"], 0.5);
  EXPECT_DOUBLE_EQ(first.gauges["load_average{period=\"15m\"}"], 0.1);
  EXPECT_DOUBLE_EQ(first.gauges["memory_bytes{kind=\"total\"}"], 1000.0 * 1024);
  EXPECT_DOUBLE_EQ(first.gauges["memory_bytes{kind=\"used\"}"], 400.0 * 1024);
  EXPECT_DOUBLE_EQ(first.gauges["memory_bytes{kind=\"cached\"}"], 300.0 * 1024);

  WriteCounters(/*user_ticks=*/150, /*sda_reads=*/14, /*eth0_rx_bytes=*/4000, /*loop1_reads=*/3);
  const absl::Time t1 = t0_ + absl::Seconds(1);
  ASSERT_TRUE(probe.Collect(t1, acc_).ok());
  Summary second = Summarize(acc_.Flush(t1 + absl::Seconds(1)));
  EXPECT_EQ(second.counters["cpu_ms{mode=\"user\"}"], 500u);
  EXPECT_EQ(second.counters.count("cpu_ms{mode=\"system\"}"), 0u);  // unchanged: no point
  EXPECT_EQ(second.counters["disk_ops{disk=\"sda\",op=\"read\"}"], 4u);
  EXPECT_EQ(second.counters["disk_bytes{disk=\"sda\",op=\"read\"}"], 4u * 8 * 512);
  // An idle loop device was skipped, but one that becomes active counts from zero.
  EXPECT_EQ(second.counters["disk_ops{disk=\"loop1\",op=\"read\"}"], 3u);
  EXPECT_EQ(second.counters["network_bytes{direction=\"rx\",interface=\"eth0\"}"], 3000u);
  for (const auto& [series, count] : second.counters) {
    EXPECT_EQ(series.find("sda1"), std::string::npos) << "partition counted: " << series;
    EXPECT_EQ(series.find("loop0"), std::string::npos) << "idle loop device: " << series;
    EXPECT_EQ(series.find("\"lo\""), std::string::npos) << "loopback counted: " << series;
  }
}

TEST_F(HostMetricsFixtureTest, AValueGoingDownEmitsNothingForThatInterval) {
  WriteCounters(100, 10, 1000, 0);
  HostMetricsProbe probe(Options());
  ASSERT_TRUE(probe.Init().ok());
  ASSERT_TRUE(probe.Collect(t0_, acc_).ok());
  WriteCounters(120, 12, 500, 0);  // eth0's counter was reset (driver reload)
  ASSERT_TRUE(probe.Collect(t0_ + absl::Seconds(1), acc_).ok());
  WriteCounters(130, 13, 800, 0);
  ASSERT_TRUE(probe.Collect(t0_ + absl::Seconds(2), acc_).ok());
  Summary s = Summarize(acc_.Flush(t0_ + absl::Seconds(3)));
  EXPECT_EQ(s.counters["network_bytes{direction=\"rx\",interface=\"eth0\"}"], 300u);
  EXPECT_EQ(s.counters["cpu_ms{mode=\"user\"}"], 300u);
  EXPECT_EQ(s.counters["disk_ops{disk=\"sda\",op=\"read\"}"], 3u);
}

TEST_F(HostMetricsFixtureTest, MissingOptionalFilesLeaveTheirMetricsOut) {
  WriteCounters(100, 10, 1000, 0);
  fs::remove(root_ / "proc/diskstats");
  fs::remove(root_ / "proc/loadavg");
  HostMetricsProbe probe(Options());
  ASSERT_TRUE(probe.Init().ok());
  ASSERT_TRUE(probe.Collect(t0_, acc_).ok());
  Summary s = Summarize(acc_.Flush(t0_ + absl::Seconds(1)));
  EXPECT_EQ(s.gauges.count("load_average{period=\"1m\"}"), 0u);
  EXPECT_EQ(s.gauges.count("memory_bytes{kind=\"total\"}"), 1u);
  EXPECT_EQ(probe.status().state(), v1::ProbeState::ATTACHED);
}

TEST_F(HostMetricsFixtureTest, UnreadableProcStatFailsInitClearly) {
  HostMetricsProbe probe(Options());  // no proc/stat written
  absl::Status s = probe.Init();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("proc/stat"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("procfs"), absl::string_view::npos) << s;
  EXPECT_EQ(probe.status().state(), v1::ProbeState::FAILED);
}

TEST(HostMetricsRealProcTest, ReadsThisHost) {
  HostMetricsProbe probe;
  ASSERT_TRUE(probe.Init().ok());
  EXPECT_EQ(probe.Metrics().size(), 7u);
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());
  // CPU time (of all modes, idle included) advances with wall time; burn some
  // CPU until it shows, so that the second read surely differs from the first.
  uint64_t cpu_ms = 0;
  Summary s;
  for (int attempt = 0; attempt < 100 && cpu_ms == 0; ++attempt) {
    const std::clock_t start = std::clock();
    while (std::clock() - start < CLOCKS_PER_SEC / 50) {
    }
    ASSERT_TRUE(probe.Collect(t0, acc).ok());
    s = Summarize(acc.FlushAll());
    for (const auto& [series, count] : s.counters) {
      if (series.rfind("cpu_ms{", 0) == 0) cpu_ms += count;
    }
  }
  EXPECT_GT(cpu_ms, 0u);
  EXPECT_GT(s.gauges["memory_bytes{kind=\"total\"}"], 0.0);
  EXPECT_GE(s.gauges["memory_bytes{kind=\"total\"}"], s.gauges["memory_bytes{kind=\"available\"}"]);
  EXPECT_EQ(s.gauges.count("load_average{period=\"5m\"}"), 1u);
  for (const auto& [series, count] : s.counters) {
    EXPECT_EQ(series.find("interface=\"lo\""), std::string::npos) << series;
  }
  EXPECT_EQ(probe.status().state(), v1::ProbeState::ATTACHED);
}

}  // namespace
}  // namespace andon::agent
