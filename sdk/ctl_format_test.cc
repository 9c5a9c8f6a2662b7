#include "sdk/ctl_format.h"

#include <gtest/gtest.h>

namespace andon::sdk {
namespace {

v1::QueryResponse TwoGroups() {
  v1::QueryResponse r;
  r.set_metric("syscalls");
  auto* s = r.add_series();
  auto* l = s->add_labels();
  l->set_name("comm");
  l->set_value("nginx");
  s->set_total(1200);
  s = r.add_series();
  l = s->add_labels();
  l->set_name("comm");
  l->set_value("a\"b");
  s->set_total(7);
  return r;
}

TEST(CtlFormatTest, QueryTableHasOneRowPerGroup) {
  std::string out = FormatQueryTable(TwoGroups(), {"comm"});
  EXPECT_EQ(out, "COMM   TOTAL\nnginx  1200\na\"b    7\n");
}

TEST(CtlFormatTest, QueryJsonEscapes) {
  EXPECT_EQ(FormatQueryJson(TwoGroups()),
            "{\"metric\":\"syscalls\",\"groups\":[{\"labels\":{\"comm\":\"nginx\"},\"total\":1200},"
            "{\"labels\":{\"comm\":\"a\\\"b\"},\"total\":7}],\"truncated\":0}\n");
}

TEST(CtlFormatTest, HostsTable) {
  v1::ListHostsResponse hosts;
  auto* h = hosts.add_hosts();
  h->mutable_info()->set_host_id("web-1");
  h->mutable_info()->set_kernel_release("6.1.0");
  h->mutable_info()->set_num_cpus(8);
  (*h->mutable_info()->mutable_labels())["role"] = "web";
  h->set_aggregator_id("agg-1");
  h->set_connected(true);
  h->mutable_last_seen()->set_seconds(1000);
  std::string out = FormatHostsTable(hosts, absl::FromUnixSeconds(1003));
  EXPECT_NE(out.find("web-1"), std::string::npos);
  EXPECT_NE(out.find("3s ago"), std::string::npos);
  EXPECT_NE(out.find("role=web"), std::string::npos);
}

}  // namespace
}  // namespace andon::sdk
