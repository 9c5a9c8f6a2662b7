// Needs root and a kernel with BTF: loads the real probe and does direct I/O
// on a loop device the test creates (and removes).
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/biolatency/biolatency_probe.h"
#include "agent/test_loop_device.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

using testing::LoopDevice;

constexpr size_t kChunk = 1 << 20;  // 1 MiB per O_DIRECT write or read
constexpr int kChunks = 16;
constexpr size_t kBytes = kChunk * kChunks;
// A raw block device has no file system, so no metadata is written: the
// write allowance is 0 beyond the 1 %. Reads allow 1 MiB for a udev/blkid
// probe of the new device.
constexpr uint64_t kWriteAllowance = 0;
constexpr uint64_t kReadAllowance = 1 << 20;

struct DiskOpTotals {
  uint64_t bytes = 0;
  uint64_t requests = 0;  // samples in bio_latency_ns
  double min_ns = 0;
};

DiskOpTotals TotalsFor(const std::vector<v1::Point>& points, const std::string& disk,
                       const std::string& op) {
  DiskOpTotals t;
  for (const v1::Point& p : points) {
    if (LabelValue(p.series(), "disk") != disk || LabelValue(p.series(), "op") != op) continue;
    if (p.series().metric() == "bio_bytes") t.bytes += p.value().counter();
    if (p.series().metric() == "bio_latency_ns") {
      const auto& d = p.value().distribution();
      if (d.count() > 0 && (t.requests == 0 || d.min() < t.min_ns)) t.min_ns = d.min();
      t.requests += d.count();
    }
  }
  return t;
}

// Writes kBytes to `path` with O_DIRECT, then reads them back if asked.
void DirectIo(const std::string& path, bool read_back) {
  int fd = open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  ASSERT_GE(fd, 0) << strerror(errno);
  void* buf = nullptr;
  ASSERT_EQ(posix_memalign(&buf, 4096, kChunk), 0);
  std::unique_ptr<void, decltype(&free)> owned(buf, &free);
  memset(buf, 0xab, kChunk);
  for (int i = 0; i < kChunks; ++i) {
    ASSERT_EQ(pwrite(fd, buf, kChunk, static_cast<off_t>(i) * kChunk), (ssize_t)kChunk);
  }
  for (int i = 0; read_back && i < kChunks; ++i) {
    ASSERT_EQ(pread(fd, buf, kChunk, static_cast<off_t>(i) * kChunk), (ssize_t)kChunk);
  }
  close(fd);
}

class BiolatencyProbeBpfTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BiolatencyProbeBpfTest, CountsDirectIoBytesOnALoopDevice) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    GTEST_SKIP() << "no kernel BTF at /sys/kernel/btf/vmlinux: cannot run BPF tests";
  }
  if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF and loop devices)";
  InstallLibbpfLogger();
  BiolatencyProbeOptions options;
  const std::string wanted = GetParam();
  if (wanted == "tracepoint:block:block_rq_issue") {
    options.attach_points = {{"issue_tp", "complete_tp", "tracepoint:block:block_rq_issue", true}};
  }
  BiolatencyProbe probe(options);
  absl::Status s = probe.Init();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(probe.status().attach_point(), wanted);

  std::string error;
  std::unique_ptr<LoopDevice> loop = LoopDevice::Create(64 << 20, &error);
  ASSERT_NE(loop, nullptr) << error;
  WindowAccumulator acc(absl::Seconds(1), {});
  const absl::Time t0 = absl::Now();
  ASSERT_TRUE(probe.Collect(t0, acc).ok());  // baseline: only what follows counts

  DirectIo(loop->path(), /*read_back=*/true);
  // O_DIRECT returns once the device completed the requests, but on a busy
  // machine the last completions may reach the probe's map a moment later:
  // collect until both directions are complete (or 10 s have passed).
  std::vector<v1::Point> points;
  DiskOpTotals w, r;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);;) {
    ASSERT_TRUE(probe.Collect(t0, acc).ok());
    for (v1::Point& p : acc.FlushAll()) points.push_back(std::move(p));
    w = TotalsFor(points, loop->name(), "write");
    r = TotalsFor(points, loop->name(), "read");
    if ((w.bytes >= kBytes && r.bytes >= kBytes) || absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::cerr << loop->name() << ": write " << w.bytes << " bytes in " << w.requests
            << " requests, read " << r.bytes << " bytes in " << r.requests << " requests; "
            << kBytes << " each were done\n";
  EXPECT_GE(w.bytes, kBytes);
  EXPECT_LE(w.bytes, kBytes + kBytes / 100 + kWriteAllowance);
  EXPECT_GE(r.bytes, kBytes);
  EXPECT_LE(r.bytes, kBytes + kBytes / 100 + kReadAllowance);
  EXPECT_GE(w.requests, static_cast<uint64_t>(kChunks));
  EXPECT_GE(r.requests, static_cast<uint64_t>(kChunks));
  EXPECT_GT(w.min_ns, 0);
  EXPECT_EQ(probe.status().drops(), 0u);
  EXPECT_GE(probe.status().events(), 2u * kChunks);

  // Idle past the eviction age (driven by sample time): the loop device's
  // counters leave the kernel map, and new I/O then counts from zero, exactly.
  const uint64_t evicted_before = probe.evicted_keys();
  ASSERT_TRUE(probe.Collect(t0 + absl::Seconds(61), acc).ok());
  EXPECT_GT(probe.evicted_keys(), evicted_before);
  acc.FlushAll();
  DirectIo(loop->path(), /*read_back=*/false);
  std::vector<v1::Point> later;
  DiskOpTotals again;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);;) {
    ASSERT_TRUE(probe.Collect(t0 + absl::Seconds(62), acc).ok());
    for (v1::Point& p : acc.FlushAll()) later.push_back(std::move(p));
    again = TotalsFor(later, loop->name(), "write");
    if (again.bytes >= kBytes || absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GE(again.bytes, kBytes);
  EXPECT_LE(again.bytes, kBytes + kBytes / 100 + kWriteAllowance);
}

INSTANTIATE_TEST_SUITE_P(AttachPoints, BiolatencyProbeBpfTest,
                         ::testing::Values("tp_btf:block_rq_issue",
                                           "tracepoint:block:block_rq_issue"));

}  // namespace
}  // namespace andon::agent
