#include "aggregator/forward/window_reducer.h"

#include <algorithm>

#include "aggregator/test_batches.h"
#include "common/series_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::aggregator {
namespace {

using testing::kSecondNs;
using testing::kT0Ns;
using testing::Syscalls;

std::vector<std::string> Render(const std::vector<v1::Point>& points) {
  std::vector<std::string> out;
  for (const v1::Point& p : points) {
    out.push_back(SeriesKeyToString(p.series()) + "@" +
                  std::to_string((p.window_start_ns() - kT0Ns) / kSecondNs) + "=" +
                  std::to_string(p.value().counter()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(WindowReducerTest, DropsTheHostAndMergesHostsOfOneWindow) {
  WindowReducer r(kT0Ns, 1000);
  EXPECT_EQ(r.Add(Syscalls("a", "nginx", "read", kT0Ns, 3)), WindowReducer::Added::kOpen);
  r.Add(Syscalls("b", "nginx", "read", kT0Ns, 4));
  r.Add(Syscalls("b", "sshd", "read", kT0Ns, 1));
  EXPECT_EQ(r.pending_points(), 2u);
  EXPECT_EQ(Render(r.Close(kT0Ns + kSecondNs)),
            (std::vector<std::string>{R"(syscalls{comm="nginx",syscall="read"}@0=7)",
                                      R"(syscalls{comm="sshd",syscall="read"}@0=1)"}));
  EXPECT_EQ(r.pending_points(), 0u);
}

TEST(WindowReducerTest, ClosesOnlyWindowsStartingBeforeTheCursor) {
  WindowReducer r(kT0Ns, 1000);
  r.Add(Syscalls("a", "x", "read", kT0Ns, 1));
  r.Add(Syscalls("a", "x", "read", kT0Ns + kSecondNs, 2));
  EXPECT_EQ(Render(r.Close(kT0Ns + kSecondNs)),
            (std::vector<std::string>{R"(syscalls{comm="x",syscall="read"}@0=1)"}));
  EXPECT_TRUE(r.Close(kT0Ns + kSecondNs).empty());  // the cursor did not move
  EXPECT_EQ(Render(r.Close(kT0Ns + 2 * kSecondNs)),
            (std::vector<std::string>{R"(syscalls{comm="x",syscall="read"}@1=2)"}));
}

TEST(WindowReducerTest, LatePointsComeOutAsAmendmentsAtTheNextClose) {
  WindowReducer r(kT0Ns, 1000);
  r.Add(Syscalls("a", "x", "read", kT0Ns, 5));
  ASSERT_EQ(r.Close(kT0Ns + kSecondNs).size(), 1u);
  EXPECT_EQ(r.Add(Syscalls("b", "x", "read", kT0Ns, 2)), WindowReducer::Added::kLate);
  r.Add(Syscalls("c", "x", "read", kT0Ns, 1));
  EXPECT_EQ(r.late_points(), 2u);
  // Only the amendment (2 + 1), not the window again: the parent adds it to
  // the 5 it already has.
  EXPECT_EQ(Render(r.Close(0)),
            (std::vector<std::string>{R"(syscalls{comm="x",syscall="read"}@0=3)"}));
  EXPECT_EQ(r.cursor(), kT0Ns + kSecondNs);
}

TEST(WindowReducerTest, RulesKeepOnlyTheLabelsTheyName) {
  WindowReducer r(kT0Ns, 1000);
  auto rules = ForwardRules::Parse("syscalls:syscall");
  ASSERT_TRUE(rules.ok()) << rules.status();
  r.SetRules(*rules);
  r.Add(Syscalls("a", "nginx", "read", kT0Ns, 3));
  r.Add(Syscalls("b", "sshd", "read", kT0Ns, 4));
  EXPECT_EQ(Render(r.Close(kT0Ns + kSecondNs)),
            (std::vector<std::string>{R"(syscalls{syscall="read"}@0=7)"}));
}

v1::HostLabels Role(const std::string& role) {
  v1::HostLabels labels;
  (*labels.mutable_labels())["role"] = role;
  (*labels.mutable_labels())["rack"] = "r1";
  return labels;
}

TEST(WindowReducerTest, RulesKeepHostLabelsTheyName) {
  WindowReducer r(kT0Ns, 1000);
  auto rules = ForwardRules::Parse("syscalls:role,syscall");
  ASSERT_TRUE(rules.ok()) << rules.status();
  r.SetRules(*rules);
  const v1::HostLabels db = Role("db");
  const v1::HostLabels web = Role("web");
  r.Add(Syscalls("a", "nginx", "read", kT0Ns, 3), &web);
  r.Add(Syscalls("b", "nginx", "read", kT0Ns, 4), &web);
  r.Add(Syscalls("c", "postgres", "read", kT0Ns, 5), &db);
  r.Add(Syscalls("d", "x", "read", kT0Ns, 1));  // labels never said: no role
  // rack is not kept: the rule does not name it.
  EXPECT_EQ(Render(r.Close(kT0Ns + kSecondNs)),
            (std::vector<std::string>{R"(syscalls{role="db",syscall="read"}@0=5)",
                                      R"(syscalls{role="web",syscall="read"}@0=7)",
                                      R"(syscalls{syscall="read"}@0=1)"}));
}

TEST(ForwardRulesTest, HostLabelsOnlyThroughARuleAndNeverOverThePointsOwn) {
  auto rules = ForwardRules::Parse("syscalls:comm,role");
  ASSERT_TRUE(rules.ok()) << rules.status();
  v1::HostLabels host;
  (*host.mutable_labels())["comm"] = "from-host";
  (*host.mutable_labels())["role"] = "db";
  EXPECT_EQ(
      SeriesKeyToString(rules->Reduce(Syscalls("a", "nginx", "read", kT0Ns, 1).series(), &host)),
      R"(syscalls{comm="nginx",role="db"})");
  // A value no series may hold is left out.
  (*host.mutable_labels())["role"] = std::string("d\0b", 3);
  EXPECT_EQ(
      SeriesKeyToString(rules->Reduce(Syscalls("a", "nginx", "read", kT0Ns, 1).series(), &host)),
      R"(syscalls{comm="nginx"})");
  // No rule for execs: every label but host, and nothing from the host.
  v1::SeriesKey execs;
  execs.set_metric("execs");
  v1::Label* h = execs.add_labels();
  h->set_name("host");
  h->set_value("a");
  EXPECT_EQ(SeriesKeyToString(rules->Reduce(execs, &host)), "execs{}");
}

TEST(WindowReducerTest, APointBeyondTheBoundIsDroppedAndCounted) {
  WindowReducer r(kT0Ns, 1);
  r.Add(Syscalls("a", "x", "read", kT0Ns, 1));
  EXPECT_EQ(r.Add(Syscalls("a", "y", "read", kT0Ns, 1)), WindowReducer::Added::kDropped);
  // An existing series still merges.
  EXPECT_EQ(r.Add(Syscalls("b", "x", "read", kT0Ns, 1)), WindowReducer::Added::kOpen);
  EXPECT_EQ(r.dropped_points(), 1u);
  EXPECT_EQ(Render(r.Close(kT0Ns + kSecondNs)),
            (std::vector<std::string>{R"(syscalls{comm="x",syscall="read"}@0=2)"}));
}

TEST(ForwardRulesTest, ParsesAndRefusesClearly) {
  auto ok = ForwardRules::Parse("syscalls:comm,syscall; cpu_profile:comm");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->Keeps("syscalls", "comm"));
  EXPECT_FALSE(ok->Keeps("syscalls", "host"));
  EXPECT_FALSE(ok->Keeps("cpu_profile", "pid"));
  EXPECT_TRUE(ok->Keeps("execs", "comm"));  // no rule: all but host
  EXPECT_FALSE(ok->Keeps("execs", "host"));
  EXPECT_EQ(ok->ToProto().size(), 2u);
  EXPECT_EQ(ForwardRules(ok->ToProto()).ToProto()[1].keep_labels_size(), 2);
  EXPECT_THAT(ForwardRules::Parse("syscalls").status().message(),
              ::testing::HasSubstr("keeps no label"));
  EXPECT_THAT(ForwardRules::Parse("a:b;a:c").status().message(), ::testing::HasSubstr("twice"));
  EXPECT_THAT(ForwardRules::Parse("9x:b").status().message(),
              ::testing::HasSubstr("not a metric name"));
  EXPECT_THAT(ForwardRules::Parse("x:b-c").status().message(),
              ::testing::HasSubstr("not a label name"));
}

}  // namespace
}  // namespace andon::aggregator
