// An agent that cannot load BPF must say why and what to do, and exit
// non-zero, instead of registering and sending nothing.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/harness/local_cluster.h"
#include "tests/harness/subprocess.h"

namespace andon::testing {
namespace {

TEST(AgentPrivilegesTest, UnprivilegedAgentExitsSayingToRunAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start the agent as an unprivileged user";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) not found";
  char tmpl[] = "/tmp/andon-priv-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  // The build tree may sit where an unprivileged user cannot reach it (a
  // checkout in a 0700 directory): run a copy from a directory anyone can read.
  std::filesystem::copy_file(BinDir() + "/andon-agent", dir + "/andon-agent");
  std::filesystem::permissions(dir, std::filesystem::perms(0755));
  std::filesystem::permissions(dir + "/andon-agent", std::filesystem::perms(0755));
  auto agent = Subprocess::Start(
      {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", dir + "/andon-agent",
       "--controller", "127.0.0.1:1", "--http_addr", "127.0.0.1:" + std::to_string(PickFreePort())},
      dir + "/agent.log");
  ASSERT_TRUE(agent.ok());
  auto status = agent->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << "the agent kept running without BPF\n" << agent->Log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << agent->Log();
  std::string log = agent->Log();
  EXPECT_NE(log.find("cannot load BPF probe"), std::string::npos) << log;
  EXPECT_NE(log.find("Run andon-agent as root"), std::string::npos) << log;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace andon::testing
