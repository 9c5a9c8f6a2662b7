// From the kernel to the controller: a child process with a distinctive
// name makes exactly N getppid calls; the count must come back through the
// agent's eBPF probe, the aggregator's RocksDB and the controller's query
// router — and through andonctl.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/bpf_available.h"
#include "tests/harness/local_cluster.h"

namespace andon::testing {
namespace {

// Every agent on the machine sees every process, and ctest runs tests in
// parallel: each test process gets its own name for its child.
const std::string& ChildComm() {
  static const std::string comm = "e2e_gp_" + std::to_string(::getpid() % 100000);
  return comm;
}
constexpr int kCalls = 25000;
constexpr int kSlack = 20;

void RunChildMakingGetppidCalls(int n) {
  const std::string& comm = ChildComm();  // named after this process, not the child
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
    for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

double QueryTotal(sdk::Client& client, const std::string& host) {
  auto req = sdk::MakeRangeQuery("syscalls", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
  sdk::AddEqualMatcher(req, "host", host);
  sdk::AddEqualMatcher(req, "comm", ChildComm());
  sdk::AddEqualMatcher(req, "syscall", "getppid");
  req.add_group_by("comm");
  auto resp = client.Query(req);
  if (!resp.ok() || resp->series_size() == 0) return 0;
  return resp->series(0).total();
}

std::string RunCommand(const std::string& command) {
  std::array<char, 4096> buf;
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  while (pipe && fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = BpfUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    cluster_ = std::make_unique<LocalCluster>(LocalCluster::Options{});
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(PipelineTest, GetppidCallsArriveExactlyThroughController) {
  RunChildMakingGetppidCalls(kCalls);

  double total = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && total < kCalls) {
    absl::SleepFor(absl::Milliseconds(500));
    total = QueryTotal(cluster_->client(), cluster_->host_id());
  }
  ASSERT_GE(total, kCalls) << cluster_->LogTails();
  // Later windows must not add phantom calls for a process that has exited.
  absl::SleepFor(absl::Seconds(3));
  total = QueryTotal(cluster_->client(), cluster_->host_id());
  EXPECT_GE(total, kCalls);
  EXPECT_LE(total, kCalls + kSlack);
}

TEST_F(PipelineTest, AndonctlShowsHostAndQueryRows) {
  RunChildMakingGetppidCalls(1000);
  std::string ctl = BinDir() + "/andonctl --controller " + cluster_->controller_grpc();
  std::string hosts = RunCommand(ctl + " hosts");
  EXPECT_NE(hosts.find(cluster_->host_id()), std::string::npos) << hosts;
  EXPECT_NE(hosts.find(" up "), std::string::npos) << hosts;  // its state
  EXPECT_NE(hosts.find("1 of 1 hosts: 1 up"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("role=e2e"), std::string::npos) << hosts;

  std::string rows;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    rows =
        RunCommand(ctl + " query syscalls --host " + cluster_->host_id() + " --by comm --last 1m");
    if (rows.find(ChildComm()) != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_EQ(rows.rfind("COMM", 0), 0u) << rows;
  EXPECT_NE(rows.find(ChildComm()), std::string::npos) << rows;

  std::string json = RunCommand(ctl + " --json query syscalls --host " + cluster_->host_id() +
                                " --where syscall=getppid --by comm --last 1m");
  EXPECT_NE(json.find(absl::StrCat("{\"labels\":{\"comm\":\"", ChildComm(), "\"},\"total\":")),
            std::string::npos)
      << json;
}

TEST_F(PipelineTest, SecondAgentWithSameHostIdIsRefused) {
  auto before = cluster_->client().GetHost(cluster_->host_id());
  ASSERT_TRUE(before.ok()) << before.status();

  auto second = cluster_->StartAgent(cluster_->host_id(), "agent2.log");
  ASSERT_TRUE(second.ok());
  auto status = second->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << "second agent with a held host id kept running\n" << second->Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << second->Log();
  EXPECT_NE(second->Log().find("already held"), std::string::npos) << second->Log();

  auto after = cluster_->client().GetHost(cluster_->host_id());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->instance_id(), before->instance_id());
  EXPECT_TRUE(after->connected());
  ASSERT_NE(cluster_->agent(), nullptr);
  EXPECT_TRUE(cluster_->agent()->Running());
}

TEST_F(PipelineTest, ExecsOfAProgramAreCountedByItsName) {
  // A copy of /bin/true under a name no other process has.
  const std::string name = "e2e_ex_" + std::to_string(::getpid() % 100000);
  const std::string path = cluster_->dir() + "/" + name;
  std::filesystem::copy_file("/bin/true", path);
  std::filesystem::permissions(path, std::filesystem::perms(0755));
  constexpr int kExecs = 7;
  for (int i = 0; i < kExecs; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl(path.c_str(), name.c_str(), nullptr);
      _exit(127);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  double total = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && total < kExecs) {
    absl::SleepFor(absl::Milliseconds(500));
    auto req = sdk::MakeRangeQuery("execs", absl::Now(), absl::Minutes(5), absl::ZeroDuration());
    sdk::AddEqualMatcher(req, "host", cluster_->host_id());
    sdk::AddEqualMatcher(req, "comm", name);
    req.add_group_by("comm");
    auto resp = cluster_->client().Query(req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    total = resp->series_size() > 0 ? resp->series(0).total() : 0;
  }
  EXPECT_EQ(total, kExecs) << cluster_->LogTails();
}

TEST_F(PipelineTest, RestartedAgentGetsItsHostBackAtOnce) {
  auto before = cluster_->client().GetHost(cluster_->host_id());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_NE(cluster_->agent(), nullptr);
  int status = cluster_->agent()->Stop(SIGTERM, absl::Seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cluster_->agent()->Log();

  auto restarted = cluster_->StartAgent(cluster_->host_id(), "agent-restarted.log");
  ASSERT_TRUE(restarted.ok());
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<v1::Host> after;
  while (absl::Now() < deadline) {
    after = cluster_->client().GetHost(cluster_->host_id());
    if (after.ok() && after->connected() && after->instance_id() != before->instance_id()) break;
    ASSERT_TRUE(restarted->Running()) << restarted->Log();
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->connected()) << restarted->Log();
  EXPECT_NE(after->instance_id(), before->instance_id());
}

}  // namespace
}  // namespace andon::testing
