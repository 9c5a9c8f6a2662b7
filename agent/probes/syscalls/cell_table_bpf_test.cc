// Needs root: creates a real per-CPU array map and plays the BPF program's
// part by writing cells into it from user space.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/probes/syscalls/cell_table.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

constexpr uint32_t kCells = 64;

syscalls_cell Cell(const char* comm, uint32_t nr, uint64_t count, uint32_t bucket = 0) {
  char bytes[SYSCALLS_COMM_LEN] = {};
  strncpy(bytes, comm, sizeof(bytes) - 1);
  syscalls_cell c{};
  c.count = count;
  memcpy(&c.comm_lo, bytes, 8);
  memcpy(&c.comm_hi, bytes + 8, 8);
  c.nr = nr;
  c.bucket = bucket;
  return c;
}

std::string CommOf(const syscalls_cell& c) {
  char bytes[SYSCALLS_COMM_LEN + 1] = {};
  memcpy(bytes, &c.comm_lo, 8);
  memcpy(bytes + 8, &c.comm_hi, 8);
  return bytes;
}

class CellTableBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    num_cpus_ = libbpf_num_possible_cpus();
    ASSERT_GT(num_cpus_, 0);
    fd_ = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "cells_test", sizeof(__u32),
                         sizeof(syscalls_cell), kCells, nullptr);
    if (fd_ == -EPERM) GTEST_SKIP() << "creating BPF maps is not permitted; run as root";
    ASSERT_GE(fd_, 0) << strerror(-fd_);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }

  // Sets cell `index` on `cpu` (the others keep what they hold).
  void Put(uint32_t index, int cpu, const syscalls_cell& cell) {
    std::vector<syscalls_cell> all(num_cpus_);
    ASSERT_EQ(bpf_map_lookup_elem(fd_, &index, all.data()), 0);
    all[cpu] = cell;
    ASSERT_EQ(bpf_map_update_elem(fd_, &index, all.data(), BPF_EXIST), 0);
  }
  syscalls_cell Get(uint32_t index, int cpu) {
    std::vector<syscalls_cell> all(num_cpus_);
    EXPECT_EQ(bpf_map_lookup_elem(fd_, &index, all.data()), 0);
    return all[cpu];
  }

  // Deltas per (comm, nr, bucket) of one Collect.
  std::map<std::tuple<std::string, uint32_t, uint32_t>, uint64_t> Collect(PerCpuCellTable& t,
                                                                          absl::Time now) {
    std::map<std::tuple<std::string, uint32_t, uint32_t>, uint64_t> out;
    absl::Status s = t.Collect(now, [&](const syscalls_cell& c, uint64_t delta) {
      out[{CommOf(c), c.nr, c.bucket}] += delta;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  PerCpuCellTable Table() {
    return PerCpuCellTable({"cells_test", kCells, absl::Seconds(60)}, fd_, num_cpus_, &stats_);
  }

  int fd_ = -1;
  int num_cpus_ = 0;
  EvictionStats stats_;
};

TEST_F(CellTableBpfTest, ReportsGrowthPerKeyAcrossCpus) {
  PerCpuCellTable table = Table();
  const absl::Time t0 = absl::Now();
  Put(3, 0, Cell("alpha", 39, 10));
  Put(3, num_cpus_ - 1, Cell(num_cpus_ > 1 ? "beta" : "alpha", 39, num_cpus_ > 1 ? 4 : 10));
  Put(kCells - 1, 0, Cell("alpha", 0, 7, 900));
  auto first = Collect(table, t0);
  if (num_cpus_ > 1) {
    EXPECT_EQ((first[{"alpha", 39, 0}]), 10u);
    EXPECT_EQ((first[{"beta", 39, 0}]), 4u);
  }
  EXPECT_EQ((first[{"alpha", 0, 900}]), 7u);

  Put(3, 0, Cell("alpha", 39, 25));
  auto second = Collect(table, t0 + absl::Seconds(1));
  EXPECT_EQ(second.size(), 1u);
  EXPECT_EQ((second[{"alpha", 39, 0}]), 15u);
  // Nothing grew: nothing reported.
  EXPECT_TRUE(Collect(table, t0 + absl::Seconds(2)).empty());
}

TEST_F(CellTableBpfTest, IdleCellsAreFreedWithTheirLastGrowthAndReusedFromZero) {
  PerCpuCellTable table = Table();
  const absl::Time t0 = absl::Now();
  Put(5, 0, Cell("gone", 1, 100));
  EXPECT_EQ((Collect(table, t0)[{"gone", 1, 0}]), 100u);
  // Still changing on another index: that one stays.
  Put(6, 0, Cell("busy", 1, 1));
  Collect(table, t0 + absl::Seconds(1));
  Put(6, 0, Cell("busy", 1, 2));
  Collect(table, t0 + absl::Seconds(59));
  // Index 5 idle for 60 s: freed. Growth that came in since the last read is
  // reported as it goes... unless it came in this very read, which makes the
  // cell busy again. Here it stayed at 100.
  const uint64_t evicted_before = stats_.evicted_keys.load();
  auto at60 = Collect(table, t0 + absl::Seconds(60));
  EXPECT_TRUE(at60.empty());
  EXPECT_EQ(stats_.evicted_keys.load(), evicted_before + 1);
  EXPECT_EQ(Get(5, 0).count, 0u);
  EXPECT_EQ(Get(6, 0).count, 2u);  // changed at 59 s: kept

  // The kernel claims the free cell for another key: all of it is new.
  Put(5, 0, Cell("next", 2, 3));
  EXPECT_EQ((Collect(table, t0 + absl::Seconds(61))[{"next", 2, 0}]), 3u);
  EXPECT_EQ(stats_.eviction_errors.load(), 0u);
}

TEST_F(CellTableBpfTest, AnIncrementInFlightWhileACellIsFreedIsCountedOnce) {
  PerCpuCellTable table = Table();
  const absl::Time t0 = absl::Now();
  Put(7, 0, Cell("gone", 1, 100));
  EXPECT_EQ((Collect(table, t0)[{"gone", 1, 0}]), 100u);
  EXPECT_TRUE(Collect(table, t0 + absl::Seconds(60)).empty());  // freed
  // The freed cell keeps its key, marked, with count 0...
  syscalls_cell freed = Get(7, 0);
  EXPECT_EQ(freed.count, 0u);
  EXPECT_EQ(freed.nr, 1u);
  // ...and a program that had read 100 before the cell was freed writes 101
  // over it: one more call of (gone, 1), not 101 of a key with no name.
  freed.count = 101;
  Put(7, 0, freed);
  auto after = Collect(table, t0 + absl::Seconds(61));
  EXPECT_EQ(after.size(), 1u);
  EXPECT_EQ((after[{"gone", 1, 0}]), 1u);
  EXPECT_TRUE(Collect(table, t0 + absl::Seconds(62)).empty());
  // Freed again once idle; then the same key claims it anew from 1.
  Collect(table, t0 + absl::Seconds(130));
  EXPECT_EQ(Get(7, 0).count, 0u);
  Put(7, 0, Cell("gone", 1, 2));
  EXPECT_EQ((Collect(table, t0 + absl::Seconds(131))[{"gone", 1, 0}]), 2u);
}

TEST_F(CellTableBpfTest, ACellBusyOnAnyCpuIsNotFreed) {
  if (num_cpus_ < 2) GTEST_SKIP() << "needs two CPUs";
  PerCpuCellTable table = Table();
  const absl::Time t0 = absl::Now();
  Put(9, 0, Cell("idle", 1, 5));
  Put(9, 1, Cell("busy", 1, 1));
  Collect(table, t0);
  for (int s = 1; s <= 120; s += 30) {
    Put(9, 1, Cell("busy", 1, 1 + s));
    Collect(table, t0 + absl::Seconds(s));
  }
  EXPECT_EQ(Get(9, 0).count, 5u);
  EXPECT_EQ(stats_.evicted_keys.load(), 0u);
}

}  // namespace
}  // namespace andon::agent
