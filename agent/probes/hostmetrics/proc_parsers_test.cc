#include "agent/probes/hostmetrics/proc_diskstats.h"
#include "agent/probes/hostmetrics/proc_loadavg.h"
#include "agent/probes/hostmetrics/proc_meminfo.h"
#include "agent/probes/hostmetrics/proc_net_dev.h"
#include "agent/probes/hostmetrics/proc_stat.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(ProcStatTest, ParsesTheAggregateCpuLineInMs) {
  constexpr char kText[] =
      "cpu  100 2 30 4000 5 6 7 8 9 10\n"
      "cpu0 50 1 15 2000 2 3 3 4 4 5\n"
      "intr 12345 0 0\n";
  absl::StatusOr<CpuTimesMs> cpu = ParseProcStatCpu(kText, 100);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(*cpu, (CpuTimesMs{1000, 20, 300, 40000, 50, 60, 70, 80}));
}

TEST(ProcStatTest, MissingFieldsOfOldKernelsAreZero) {
  absl::StatusOr<CpuTimesMs> cpu = ParseProcStatCpu("cpu 1 2 3 4\n", 1000);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(*cpu, (CpuTimesMs{1, 2, 3, 4, 0, 0, 0, 0}));
}

TEST(ProcStatTest, NoCpuLineIsAnError) {
  EXPECT_FALSE(ParseProcStatCpu("cpu0 1 2 3 4\nintr 1\n", 100).ok());
  EXPECT_FALSE(ParseProcStatCpu("cpu 1 2\n", 100).ok());
}

TEST(ProcLoadavgTest, ParsesThreeAverages) {
  absl::StatusOr<LoadAverages> load = ParseProcLoadavg("0.52 1.58 10.09 1/467 12345\n");
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_DOUBLE_EQ((*load)[0], 0.52);
  EXPECT_DOUBLE_EQ((*load)[1], 1.58);
  EXPECT_DOUBLE_EQ((*load)[2], 10.09);
  EXPECT_FALSE(ParseProcLoadavg("0.52 x").ok());
}

TEST(ProcMeminfoTest, ParsesKindsInBytes) {
  constexpr char kText[] =
      "MemTotal:       16000 kB\n"
      "MemFree:         2000 kB\n"
      "MemAvailable:    9000 kB\n"
      "Buffers:          500 kB\n"
      "Cached:          6000 kB\n"
      "SwapCached:         1 kB\n";
  absl::StatusOr<MemoryBytes> m = ParseProcMeminfo(kText);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->total, 16000u * 1024);
  EXPECT_EQ(m->free, 2000u * 1024);
  EXPECT_EQ(m->available, 9000u * 1024);
  EXPECT_EQ(m->buffers, 500u * 1024);
  EXPECT_EQ(m->cached, 6000u * 1024);  // not SwapCached
  EXPECT_EQ(m->used, 7000u * 1024);
}

TEST(ProcMeminfoTest, EstimatesAvailableOnOldKernels) {
  absl::StatusOr<MemoryBytes> m =
      ParseProcMeminfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->available, 35u * 1024);
  EXPECT_FALSE(ParseProcMeminfo("Buffers: 5 kB\n").ok());
}

TEST(ProcDiskstatsTest, ParsesOpsAndBytes) {
  constexpr char kText[] =
      "   8       0 sda 100 5 2000 40 50 6 800 70 0 90 110 0 0 0 0 0 0\n"
      "   8       1 sda1 90 5 1800 40 45 6 700 70 0 90 110\n"
      "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n"
      " garbage\n";
  absl::StatusOr<std::vector<DiskStats>> disks = ParseProcDiskstats(kText);
  ASSERT_TRUE(disks.ok()) << disks.status();
  ASSERT_EQ(disks->size(), 3u);
  const DiskStats& sda = (*disks)[0];
  EXPECT_EQ(sda.name, "sda");
  EXPECT_EQ(sda.reads, 100u);
  EXPECT_EQ(sda.writes, 50u);
  EXPECT_EQ(sda.read_bytes, 2000u * 512);
  EXPECT_EQ(sda.write_bytes, 800u * 512);
  EXPECT_EQ((*disks)[1].name, "sda1");
  EXPECT_FALSE(ParseProcDiskstats("nonsense\n").ok());
}

TEST(ProcNetDevTest, ParsesInterfacesIncludingNamesRunningIntoNumbers) {
  constexpr char kText[] =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo:    1000      10    0    0    0     0          0         0     1000      10    0 "
      "   0    0     0       0          0\n"
      "  eth0:12345678  9000    0    0    0     0          0         0  2345678    4000    0 "
      "   0    0     0       0          0\n";
  absl::StatusOr<std::vector<NetDevStats>> devs = ParseProcNetDev(kText);
  ASSERT_TRUE(devs.ok()) << devs.status();
  ASSERT_EQ(devs->size(), 2u);
  const NetDevStats& eth0 = (*devs)[1];
  EXPECT_EQ(eth0.interface, "eth0");
  EXPECT_EQ(eth0.rx_bytes, 12345678u);
  EXPECT_EQ(eth0.rx_packets, 9000u);
  EXPECT_EQ(eth0.tx_bytes, 2345678u);
  EXPECT_EQ(eth0.tx_packets, 4000u);
}

}  // namespace
}  // namespace andon::agent
