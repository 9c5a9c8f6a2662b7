// Live tails end to end: a program exec'd on this host appears, through the
// controller's Events API, as an exec event with its filename and as an exit
// event with its exit code.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/bpf_available.h"
#include "tests/harness/local_cluster.h"

namespace andon::testing {
namespace {

std::map<std::string, std::string> Fields(const v1::Event& e) {
  std::map<std::string, std::string> out;
  for (const auto& f : e.fields()) out[f.name()] = f.value();
  return out;
}

// Runs `path` (a copy of /bin/sh under a unique name) as `sh -c 'exit CODE'`
// and waits for it.
void RunExiting(const std::string& path, int code) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string script = absl::StrCat("exit ", code);
    execl(path.c_str(), path.c_str(), "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), code);
}

class EventsTest : public ::testing::Test {
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

TEST_F(EventsTest, AnExecdProgramAppearsWithItsFilenameAndExitCode) {
  // A unique program name, so that other tests' processes cannot match.
  const std::string dir = ::testing::TempDir();
  const std::string name = absl::StrCat("ev", getpid() % 100000);
  const std::string path = absl::StrCat(dir, "/", name);
  std::filesystem::copy_file("/bin/sh", path, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);

  v1::TailRequest req;
  req.set_selector(absl::StrCat("host=", cluster_->host_id()));
  req.add_types("exec");
  req.add_types("exit");
  // The first poll switches the tail on; wait until the agent was told.
  absl::StatusOr<v1::TailResponse> first = cluster_->client().TailEvents(req);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->hosts_tailing(), 1u);

  bool saw_exec = false, saw_exit = false;
  std::string last_exec_filename, last_exit_code;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int runs = 0;
  while ((!saw_exec || !saw_exit) && absl::Now() < deadline) {
    // Events from before the agent got the tail may be missed; run again
    // until both show up (each run is a new, distinguishable process).
    if (runs++ < 20) RunExiting(path, 3);
    absl::SleepFor(absl::Milliseconds(500));
    absl::StatusOr<v1::TailResponse> resp = cluster_->client().TailEvents(req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    for (const v1::TailedEvent& te : resp->events()) {
      auto f = Fields(te.event());
      if (f["comm"] != name) continue;
      EXPECT_EQ(te.event().host(), cluster_->host_id());
      if (te.event().type() == "exec") {
        saw_exec = true;
        last_exec_filename = f["filename"];
      } else if (te.event().type() == "exit") {
        saw_exit = true;
        last_exit_code = f["exit_code"];
        EXPECT_FALSE(f["lifetime_ms"].empty());
      }
    }
    req.set_after_sequence(resp->last_sequence());
  }
  EXPECT_TRUE(saw_exec) << cluster_->LogTails();
  EXPECT_TRUE(saw_exit) << cluster_->LogTails();
  EXPECT_EQ(last_exec_filename, path);
  EXPECT_EQ(last_exit_code, "3");
  std::filesystem::remove(path);
}

TEST_F(EventsTest, ABadSelectorIsRefusedWithItsReason) {
  v1::TailRequest req;
  req.set_selector("role");
  absl::StatusOr<v1::TailResponse> resp = cluster_->client().TailEvents(req);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(resp.status().message().find("NAME=VALUE"), std::string::npos) << resp.status();
}

}  // namespace
}  // namespace andon::testing
