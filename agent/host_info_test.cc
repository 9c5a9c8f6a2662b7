#include "agent/host_info.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(HostInfoTest, DescribesThisMachine) {
  v1::HostInfo info = DescribeHost("web-1", {{"role", "db"}});
  EXPECT_EQ(info.host_id(), "web-1");
  EXPECT_FALSE(info.hostname().empty());
  EXPECT_FALSE(info.kernel_release().empty());
  EXPECT_GE(info.num_cpus(), 1u);
  EXPECT_EQ(info.labels().at("role"), "db");
  EXPECT_EQ(info.agent_version(), kAgentVersion);
  const auto& caps = info.capabilities();
  EXPECT_NE(std::find(caps.begin(), caps.end(), "raw_tracepoint"), caps.end());
}

}  // namespace
}  // namespace andon::agent
