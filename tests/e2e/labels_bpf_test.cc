// Host labels end to end: `andonctl label` moves the host in and out of a
// probe configuration's selector, and the real agent attaches and detaches
// the probe (seen in its heartbeats through the controller's API).

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sdk/client.h"
#include "tests/e2e/bpf_available.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/probe_waits.h"

namespace andon::testing {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

std::string RunCommand(const std::string& command) {
  std::array<char, 4096> buf;
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  while (pipe && fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  return out;
}

// The state of the host's probe `key` in its last heartbeat; STATE_UNSPECIFIED
// when the agent does not run it.
v1::ProbeState::State ProbeStateOf(const v1::Host& host, const std::string& key) {
  for (const v1::ProbeState& p : host.last_heartbeat().probes()) {
    if (p.key() == key) return p.state();
  }
  return v1::ProbeState::STATE_UNSPECIFIED;
}

class HostLabelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = BpfUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    cluster_ = std::make_unique<LocalCluster>(LocalCluster::Options{});
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }

  // Waits until `done` holds for the host (tests/harness/probe_waits.h);
  // false on timeout, with the last answer in `last`.
  bool WaitForHost(const std::function<bool(const v1::Host&)>& done, std::string* last) {
    absl::StatusOr<v1::Host> host =
        testing::WaitForHost(cluster_->client(), cluster_->host_id(), done, kTimeout);
    if (!host.ok()) *last = std::string(host.status().message());
    return host.ok();
  }

  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(HostLabelsTest, LabelChangeAttachesAndDetachesTheSelectedProbe) {
  const std::string tier = absl::StrCat("t", getpid() % 100000);
  v1::PutProbeConfigRequest put;
  put.set_name("by_label");
  put.add_probes()->set_probe("runqlat");
  put.set_selector(absl::StrCat("tier=", tier));
  auto config = cluster_->client().PutProbeConfig(put);
  ASSERT_TRUE(config.ok()) << config.status();

  const std::string ctl = absl::StrCat(BinDir(), "/andonctl --controller ",
                                       cluster_->controller_grpc(), " label ", cluster_->host_id());
  std::string out = RunCommand(absl::StrCat(ctl, " tier=", tier, " 2>&1"));
  EXPECT_NE(out.find(absl::StrCat("tier=", tier)), std::string::npos) << out;
  std::string last;
  EXPECT_TRUE(WaitForHost(
      [](const v1::Host& h) { return ProbeStateOf(h, "runqlat") == v1::ProbeState::ATTACHED; },
      &last))
      << "runqlat never attached after the label was set; last heartbeat: " << last;
  auto status = cluster_->client().ProbeStatus("by_label");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->hosts_targeted(), 1u) << status->ShortDebugString();

  out = RunCommand(absl::StrCat(ctl, " tier- 2>&1"));
  EXPECT_EQ(out.find("tier="), std::string::npos) << out;
  EXPECT_TRUE(WaitForHost(
      [](const v1::Host& h) {
        return ProbeStateOf(h, "runqlat") == v1::ProbeState::STATE_UNSPECIFIED &&
               ProbeStateOf(h, "syscalls") == v1::ProbeState::ATTACHED;
      },
      &last))
      << "runqlat still runs after the label was removed; last heartbeat: " << last;

  out = RunCommand(absl::StrCat(ctl, " host=x 2>&1"));
  EXPECT_NE(out.find("is the host id"), std::string::npos) << out;
}

// With a forwarding rule that keeps a host label, a label set with
// `andonctl label` reaches the real agent over its control stream, rides on
// its batches to its leaf, and the root's fleet-wide series carry it.
TEST(HostLabelsTreeTest, ALabelSetWithAndonctlGroupsTheRootsSeries) {
  std::string reason = BpfUnavailableReason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  LocalCluster cluster(
      LocalCluster::Options{.leaves = 2, .forward_rules = "syscalls:tier,syscall"});
  ASSERT_TRUE(cluster.Start().ok()) << cluster.LogTails();
  const std::string tier = absl::StrCat("t", getpid() % 100000);
  std::string out =
      RunCommand(absl::StrCat(BinDir(), "/andonctl --controller ", cluster.controller_grpc(),
                              " label ", cluster.host_id(), " tier=", tier, " 2>&1"));
  EXPECT_NE(out.find(absl::StrCat("tier=", tier)), std::string::npos) << out;
  // Every process on the host makes syscalls: once the agent has the label,
  // the root's series for it grow.
  v1::QueryRequest q =
      sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(10), absl::ZeroDuration());
  q.add_group_by("tier");
  sdk::AddEqualMatcher(q, "tier", tier);
  absl::StatusOr<v1::QueryResponse> got =
      WaitForQueryTotal(cluster.client(), q, 1, absl::Seconds(60));
  ASSERT_TRUE(got.ok()) << got.status() << "\n" << cluster.LogTails();
  ASSERT_EQ(got->series_size(), 1) << got->DebugString();
  EXPECT_EQ(got->series(0).labels(0).value(), tier);
  EXPECT_FALSE(got->partial());
}

}  // namespace
}  // namespace andon::testing
