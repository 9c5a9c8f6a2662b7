#include "common/probe_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon {
namespace {

using ::testing::HasSubstr;

v1::ProbeSpec Spec(const std::string& probe) {
  v1::ProbeSpec s;
  s.set_probe(probe);
  return s;
}

TEST(ProbeSpecTest, ResolvesABuiltinWithTypedParameters) {
  v1::ProbeSpec spec = Spec("profile");
  (*spec.mutable_params())["frequency_hz"] = "99";
  auto inst = ResolveProbeSpec("cpu", spec);
  ASSERT_TRUE(inst.ok()) << inst.status();
  EXPECT_EQ(inst->key(), "profile");
  EXPECT_EQ(inst->builtin().profile().frequency_hz(), 99u);
  EXPECT_THAT(inst->configs(), ::testing::ElementsAre("cpu"));
}

TEST(ProbeSpecTest, RefusesUnknownProbesAndParameters) {
  auto unknown = ResolveProbeSpec("x", Spec("nosuch"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("biolatency"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("uprobe:BINARY:SYMBOL"));

  v1::ProbeSpec bad = Spec("profile");
  (*bad.mutable_params())["hz"] = "99";
  EXPECT_THAT(ResolveProbeSpec("x", bad).status().message(),
              HasSubstr("has no parameter 'hz'; its parameters: frequency_hz"));
  (*bad.mutable_params()).clear();
  (*bad.mutable_params())["frequency_hz"] = "0";
  EXPECT_THAT(ResolveProbeSpec("x", bad).status().message(), HasSubstr("from 1 to 1000"));

  v1::ProbeSpec by = Spec("syscalls");
  by.add_by("comm");
  EXPECT_THAT(ResolveProbeSpec("x", by).status().message(),
              HasSubstr("apply only to generic probes"));
}

TEST(ProbeSpecTest, ParsesAUprobeWithKeysValueAndFilter) {
  v1::ProbeSpec spec = Spec("uprobe:/usr/sbin/nginx:ngx_http_process_request");
  spec.add_by("comm");
  spec.add_by("str(arg1)");
  spec.set_value("latency");
  spec.set_filter("arg0 >= 4");
  auto inst = ResolveProbeSpec("nginx_requests", spec);
  ASSERT_TRUE(inst.ok()) << inst.status();
  const v1::GenericProbe& g = inst->generic();
  EXPECT_EQ(inst->key(), "nginx_requests");
  EXPECT_EQ(g.metric(), "nginx_requests");
  EXPECT_EQ(g.type(), v1::GenericProbe::UPROBE);
  EXPECT_EQ(g.binary(), "/usr/sbin/nginx");
  EXPECT_EQ(g.symbol(), "ngx_http_process_request");
  ASSERT_EQ(g.by_size(), 2);
  EXPECT_EQ(g.by(1).kind(), v1::GenericProbe::Operand::STR_ARG);
  EXPECT_EQ(g.by(1).index(), 1u);
  EXPECT_EQ(g.value().kind(), v1::GenericProbe::Operand::LATENCY);
  EXPECT_EQ(g.value_mode(), v1::GenericProbe::DISTRIBUTION);
  EXPECT_EQ(g.filter().op(), v1::GenericProbe::Filter::GE);
  EXPECT_EQ(g.filter().number(), 4);
  EXPECT_EQ(GenericProbeName(g), spec.probe());
}

TEST(ProbeSpecTest, ParsesTracepointAndUsdtForms) {
  v1::ProbeSpec tp = Spec("tracepoint:sched:sched_process_fork");
  tp.add_by("parent_comm");
  tp.set_filter("comm=bash");
  auto t = ParseGenericProbe(tp);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->category(), "sched");
  EXPECT_EQ(t->by(0).field(), "parent_comm");
  EXPECT_EQ(t->filter().text(), "bash");
  EXPECT_EQ(t->value_mode(), v1::GenericProbe::COUNT);

  v1::ProbeSpec usdt = Spec("usdt:/usr/lib/libc.so.6:libc:setjmp");
  usdt.set_value("sum(arg1)");
  auto u = ParseGenericProbe(usdt);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->binary(), "/usr/lib/libc.so.6");
  EXPECT_EQ(u->provider(), "libc");
  EXPECT_EQ(u->usdt_name(), "setjmp");
  EXPECT_EQ(u->value_mode(), v1::GenericProbe::SUM);
}

TEST(ProbeSpecTest, ExplainsBadGenericSpecs) {
  EXPECT_THAT(ParseGenericProbe(Spec("uprobe:nginx:foo")).status().message(),
              HasSubstr("absolute path"));
  EXPECT_THAT(ParseGenericProbe(Spec("tracepoint:sched")).status().message(),
              HasSubstr("tracepoint:CATEGORY:NAME"));
  v1::ProbeSpec lat = Spec("tracepoint:sched:sched_switch");
  lat.set_value("latency");
  EXPECT_THAT(ParseGenericProbe(lat).status().message(), HasSubstr("needs a uprobe"));
  v1::ProbeSpec ret = Spec("uprobe:/bin/x:f");
  ret.set_value("retval");
  EXPECT_THAT(ParseGenericProbe(ret).status().message(), HasSubstr("needs a uretprobe"));
  v1::ProbeSpec three = Spec("uprobe:/bin/x:f");
  three.add_by("comm");
  three.add_by("pid");
  three.add_by("arg0");
  EXPECT_THAT(ParseGenericProbe(three).status().message(), HasSubstr("at most two"));
  v1::ProbeSpec filter = Spec("uprobe:/bin/x:f");
  filter.set_filter("arg0 ~ 3");
  EXPECT_THAT(ParseGenericProbe(filter).status().message(), HasSubstr("has no comparison"));
}

TEST(ProbeSpecTest, GenericConfigurationNamesAvoidBuiltinMetrics) {
  EXPECT_THAT(ResolveProbeSpec("syscalls", Spec("uprobe:/bin/x:f")).status().message(),
              HasSubstr("built-in probe"));
  EXPECT_THAT(ResolveProbeSpec("bio_bytes", Spec("uprobe:/bin/x:f")).status().message(),
              HasSubstr("metric of built-in probe 'biolatency'"));
  EXPECT_THAT(ValidateConfigName("Bad-Name").message(), HasSubstr("lower-case"));
  EXPECT_TRUE(ValidateConfigName("nginx_requests").ok());
}

TEST(ProbeSpecTest, SelectorsMatchLabelsAndHostId) {
  auto sel = ParseSelector("role=db,host=~web-.*,zone!=eu");
  ASSERT_TRUE(sel.ok()) << sel.status();
  google::protobuf::Map<std::string, std::string> labels;
  labels["role"] = "db";
  labels["zone"] = "us";
  EXPECT_TRUE(SelectorMatches(*sel, "web-1", labels));
  EXPECT_FALSE(SelectorMatches(*sel, "api-1", labels));
  labels["zone"] = "eu";
  EXPECT_FALSE(SelectorMatches(*sel, "web-1", labels));
  EXPECT_EQ(SelectorText(*sel), "role=db,host=~web-.*,zone!=eu");

  auto regex = ParseSelector("host=~web-[0-9]{1,3}");
  ASSERT_TRUE(regex.ok()) << regex.status();
  EXPECT_EQ(regex->matchers_size(), 1) << "the comma inside {} belongs to the regex";

  EXPECT_THAT(ParseSelector("role").status().message(), HasSubstr("NAME=VALUE"));
  EXPECT_THAT(ParseSelector("host=~web-(").status().message(), HasSubstr("selector"));
}

TEST(ProbeSpecTest, FractionsAreStableAndNested) {
  v1::TargetSelector five, ten;
  five.set_fraction(0.05);
  ten.set_fraction(0.10);
  google::protobuf::Map<std::string, std::string> none;
  int in_five = 0, in_ten = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string host = "host-" + std::to_string(i);
    bool a = SelectorMatches(five, host, none);
    bool b = SelectorMatches(ten, host, none);
    EXPECT_TRUE(!a || b) << host << " is in 5% but not in 10%";
    in_five += a;
    in_ten += b;
    EXPECT_EQ(a, SelectorMatches(five, host, none)) << "stable";
  }
  EXPECT_NEAR(in_five, 500, 100);
  EXPECT_NEAR(in_ten, 1000, 150);
  v1::TargetSelector bad;
  bad.set_fraction(1.5);
  EXPECT_THAT(ValidateSelector(bad).message(), HasSubstr("between 0 and 1"));
}

}  // namespace
}  // namespace andon
