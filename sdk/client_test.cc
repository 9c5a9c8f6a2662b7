#include "sdk/client.h"

#include <gtest/gtest.h>

namespace andon::sdk {
namespace {

TEST(ClientTest, RejectsBadAddress) {
  auto c = Client::Create("no-port");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientTest, UnreachableControllerNamesIt) {
  auto c = Client::Create("127.0.0.1:1");
  ASSERT_TRUE(c.ok());
  (*c)->set_timeout(absl::Seconds(2));
  auto hosts = (*c)->ListHosts();
  ASSERT_FALSE(hosts.ok());
  EXPECT_NE(hosts.status().message().find("127.0.0.1:1"), std::string::npos) << hosts.status();
}

TEST(ClientTest, RangeQueryIsWholeSecondsOneBucket) {
  auto req = MakeRangeQuery("syscalls", absl::FromUnixMillis(10500), absl::Minutes(1),
                            absl::ZeroDuration());
  EXPECT_EQ(req.end().seconds(), 11);
  EXPECT_EQ(req.start().seconds(), 11 - 60);
  EXPECT_EQ(req.step().seconds(), 60);
}

TEST(MakeRangeQueryTest, AStepOfWholeSecondsPutsTheBucketsOnItsGrid) {
  auto req = MakeRangeQuery("syscalls", absl::FromUnixMillis(1700000123500), absl::Minutes(5),
                            absl::Seconds(10));
  EXPECT_EQ(req.end().seconds(), 1700000130);
  EXPECT_EQ(req.start().seconds(), 1700000130 - 300);
  EXPECT_EQ(req.step().seconds(), 10);
  auto fine = MakeRangeQuery("syscalls", absl::FromUnixMillis(1700000123500), absl::Minutes(5),
                             absl::Milliseconds(500));
  EXPECT_EQ(fine.end().seconds(), 1700000124);
}

}  // namespace
}  // namespace andon::sdk
