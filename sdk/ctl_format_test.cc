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

TEST(CtlFormatTest, AggregatorsShowTheTreeWeightsDrainingAndTheForwardingRules) {
  v1::ListAggregatorsResponse r;
  auto add = [&](const std::string& id, const std::string& parent, v1::AggregatorRole role,
                 uint32_t hosts) {
    v1::Aggregator* a = r.add_aggregators();
    a->set_id(id);
    a->set_parent_id(parent);
    a->set_role(role);
    a->set_address(id + ":7410");
    a->set_live(true);
    a->set_hosts(hosts);
  };
  add("leaf-1", "root", v1::AGGREGATOR_LEAF, 3);
  add("leaf-2", "root", v1::AGGREGATOR_LEAF, 4);
  add("root", "", v1::AGGREGATOR_INNER, 0);
  r.mutable_aggregators(0)->set_weight(100);
  r.mutable_aggregators(1)->set_weight(200);
  r.mutable_aggregators(1)->set_draining(true);
  v1::ForwardRule* rule = r.add_forward_rules();
  rule->set_metric("syscalls");
  rule->add_keep_labels("syscall");
  EXPECT_EQ(FormatAggregatorsTable(r, absl::FromUnixSeconds(0)),
            "AGGREGATOR  ROLE   ADDRESS      HTTP  WEIGHT  HOSTS  LAST SEEN  STATE\n"
            "root        inner  root:7410          -       -      never      live\n"
            "  leaf-1    leaf   leaf-1:7410        100     3      never      live\n"
            "  leaf-2    leaf   leaf-2:7410        200     4      never      live,draining\n"
            "forwarded up: every label but host; except syscalls:syscall\n");
}

TEST(CtlFormatTest, QueryTableHasOneRowPerGroup) {
  std::string out = FormatQueryTable(TwoGroups(), {"comm"});
  EXPECT_EQ(out, "COMM   TOTAL\nnginx  1200\na\"b    7\n");
}

TEST(CtlFormatTest, QueryJsonEscapes) {
  EXPECT_EQ(FormatQueryJson(TwoGroups()),
            "{\"metric\":\"syscalls\",\"fn\":\"\",\"unit\":\"\",\"groups\":[{\"labels\":{\"comm\":"
            "\"nginx\"},\"total\":1200},{\"labels\":{\"comm\":\"a\\\"b\"},\"total\":7}],"
            "\"truncated\":0,\"partial\":false,\"missing\":[],\"warnings\":[]}\n");
}

TEST(CtlFormatTest, QuantilesPrintInTheirUnitAndPartialAnswersSaySo) {
  v1::QueryResponse r;
  r.set_metric("syscall_latency_ns");
  r.set_fn("quantile(0.99)");
  r.set_unit("ns");
  v1::Series* s = r.add_series();
  v1::Label* l = s->add_labels();
  l->set_name("syscall");
  l->set_value("read");
  s->set_total(1500000);
  r.set_partial(true);
  r.add_missing("aggregator 'b' at 1.2.3.4:5: timed out");
  std::string table = FormatQueryTable(r, {"syscall"});
  EXPECT_NE(table.find("QUANTILE(0.99)"), std::string::npos) << table;
  EXPECT_NE(table.find("1.5ms"), std::string::npos) << table;
  EXPECT_NE(table.find("partial answer: no data from aggregator 'b'"), std::string::npos) << table;
}

TEST(CtlFormatTest, HeatmapHasARowPerRangeAndAColumnPerBucket) {
  v1::QueryResponse r;
  r.set_fn("heatmap");
  r.set_unit("ns");
  v1::Series* s = r.add_series();
  s->set_total(3);
  for (int i = 0; i < 3; ++i) {
    v1::SamplePoint* p = s->add_points();
    p->set_time_ms(1000 * i);
    v1::HeatmapCell* c = p->add_cells();
    c->set_lower(i == 2 ? 1024 : 512);
    c->set_upper(i == 2 ? 1279 : 639);
    c->set_count(1);
  }
  std::string map = FormatQueryTable(r, {});
  EXPECT_NE(map.find("1.02us-1.28us     |  @"), std::string::npos) << map;
  EXPECT_NE(map.find("512ns-639ns      |@@ "), std::string::npos) << map;
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

v1::AuditEntry AuditEntryOf(int64_t seconds, const std::string& who, const std::string& action,
                            const std::string& object, const std::string& before,
                            const std::string& after) {
  v1::AuditEntry e;
  e.mutable_time()->set_seconds(seconds);
  e.set_who(who);
  e.set_action(action);
  e.set_object(object);
  e.set_before(before);
  e.set_after(after);
  return e;
}

TEST(CtlFormatTest, AuditTableSummarisesEachChange) {
  v1::ListAuditResponse r;
  *r.add_entries() =
      AuditEntryOf(1700000062, "controller", "probes.expire", "cpu",
                   R"({"name":"cpu","probes":[{"probe":"profile","params":{"frequency_hz":"99"}}],)"
                   R"("selectorText":"all hosts","ttl":"600s"})",
                   "");
  *r.add_entries() =
      AuditEntryOf(1700000061, "ipv4:127.0.0.1:54321", "labels.set", "web-1",
                   R"({"info":{"hostId":"web-1","labels":{"rack":"r1","role":"db","zone":"a"}}})",
                   R"({"info":{"hostId":"web-1","labels":{"role":"web","tier":"canary",)"
                   R"("zone":"a"}},"labelOverrides":{"tier":"canary"}})");
  *r.add_entries() = AuditEntryOf(
      1700000060, "ipv4:127.0.0.1:54300", "probes.update", "io",
      R"({"name":"io","probes":[{"probe":"biolatency"}],"selectorText":"role=db"})",
      R"({"name":"io","probes":[{"probe":"biolatency"}],"selectorText":"role=web","ttl":"60s"})");
  *r.add_entries() =
      AuditEntryOf(1700000000, "127.0.0.1", "probes.enable", "io", "",
                   R"({"name":"io","probes":[{"probe":"biolatency"}],"selectorText":"role=db"})");
  EXPECT_EQ(FormatAuditTable(r, absl::UTCTimeZone()),
            "TIME                 WHO                   ACTION         OBJECT  CHANGE\n"
            "2023-11-14 22:14:22  controller            probes.expire  cpu     was "
            "profile(frequency_hz=99) on all hosts, ttl 10m\n"
            "2023-11-14 22:14:21  ipv4:127.0.0.1:54321  labels.set     web-1   role=db->web "
            "+tier=canary -rack\n"
            "2023-11-14 22:14:20  ipv4:127.0.0.1:54300  probes.update  io      selector role=db "
            "-> role=web; ttl none -> 1m\n"
            "2023-11-14 22:13:20  127.0.0.1             probes.enable  io      biolatency on "
            "role=db\n");
}

TEST(CtlFormatTest, AuditChangeOfADrainSaysWhetherTheLeafTakesHosts) {
  const std::string taking = R"({"id":"leaf-2","weight":100})";
  const std::string draining = R"({"id":"leaf-2","weight":100,"draining":true})";
  EXPECT_EQ(
      AuditChangeSummary(AuditEntryOf(0, "w", "aggregators.drain", "leaf-2", taking, draining)),
      "taking hosts -> draining");
  EXPECT_EQ(
      AuditChangeSummary(AuditEntryOf(0, "w", "aggregators.undrain", "leaf-2", draining, taking)),
      "draining -> taking hosts");
  EXPECT_EQ(
      AuditChangeSummary(AuditEntryOf(0, "w", "aggregators.drain", "leaf-2", draining, draining)),
      "no change (draining)");
}

TEST(CtlFormatTest, AuditChangeOfAGenericProbeAndOfNothing) {
  EXPECT_EQ(AuditChangeSummary(
                AuditEntryOf(0, "w", "probes.enable", "forks", "",
                             R"({"probes":[{"probe":"tracepoint:sched:sched_process_fork",)"
                             R"("by":["parent_comm"],"value":"latency","filter":"pid=1"}]})")),
            "tracepoint:sched:sched_process_fork(by=parent_comm value=latency filter=pid=1) on "
            "all hosts");
  const std::string io = R"({"probes":[{"probe":"biolatency"}]})";
  EXPECT_EQ(AuditChangeSummary(AuditEntryOf(0, "w", "probes.update", "io", io, io)), "no change");
  EXPECT_EQ(AuditChangeSummary(AuditEntryOf(0, "w", "labels.set", "h", "", "not json")),
            "no change");
  EXPECT_EQ(AuditChangeSummary(AuditEntryOf(0, "w", "other.thing", "x", "", "")), "-");
  EXPECT_EQ(FormatAuditTable(v1::ListAuditResponse(), absl::UTCTimeZone()),
            "TIME  WHO  ACTION  OBJECT  CHANGE\n");
}

}  // namespace
}  // namespace andon::sdk
