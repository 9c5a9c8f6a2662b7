// Needs root: loads the generic programs and probes generic_test_target
// (built beside this test) and this process's own forks. Every probe filters
// on the target's pid or a name unique to this test process, because other
// tests may run the same binary in parallel.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/biolatency/bucket_distribution.h"
#include "agent/probes/generic/generic_probe.h"
#include "agent/probes/generic/tracepoint_format.h"
#include "agent/window.h"
#include "common/series_key.h"
#include "common/value/value_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

using Operand = v1::GenericProbe::Operand;
using Labels = std::map<std::string, std::string>;

constexpr char kTarget[] = GENERIC_TEST_TARGET;

// generic_test_target MODE N [NAME], started waiting for its go byte.
class Target {
 public:
  explicit Target(std::vector<std::string> args) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[0], 0);
      close(fds[1]);
      std::vector<char*> argv = {const_cast<char*>(kTarget)};
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(kTarget, argv.data());
      _exit(127);
    }
    close(fds[0]);
    go_ = fds[1];
  }
  ~Target() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (go_ >= 0) close(go_);
  }
  pid_t pid() const { return pid_; }
  // Lets it run and waits for its exit status.
  int Run() {
    EXPECT_EQ(write(go_, "g", 1), 1);
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

v1::GenericProbe Function(v1::GenericProbe::Type type, const std::string& symbol) {
  v1::GenericProbe p;
  p.set_type(type);
  p.set_binary(kTarget);
  p.set_symbol(symbol);
  p.set_metric("generic_test");
  return p;
}

void FilterPid(v1::GenericProbe& p, pid_t pid) {
  p.mutable_filter()->mutable_operand()->set_kind(Operand::PID);
  p.mutable_filter()->set_op(v1::GenericProbe::Filter::EQ);
  p.mutable_filter()->set_number(pid);
}

Operand Kind(Operand::Kind kind, uint32_t index = 0, const std::string& field = "") {
  Operand op;
  op.set_kind(kind);
  op.set_index(index);
  op.set_field(field);
  return op;
}

class GenericProbeBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the bpf tests load BPF programs: run them as root";
    InstallLibbpfLogger();
  }

  // Creates and initialises the probe; a baseline Collect so only what
  // follows counts.
  absl::Status Start(const v1::GenericProbe& spec, GenericProbeOptions options = {}) {
    absl::StatusOr<std::unique_ptr<GenericProbe>> p =
        GenericProbe::Create("generic_test", spec, {}, options);
    if (!p.ok()) return p.status();
    probe_ = *std::move(p);
    absl::Status s = probe_->Init();
    if (!s.ok()) return s;
    return probe_->Collect(absl::Now(), acc_);
  }
  // Collects and flushes everything so far.
  std::vector<v1::Point> Finish() {
    EXPECT_TRUE(probe_->Collect(absl::Now(), acc_).ok());
    return acc_.FlushAll();
  }
  // Sums the counter of each label set.
  static std::map<Labels, uint64_t> Counters(const std::vector<v1::Point>& points) {
    std::map<Labels, uint64_t> out;
    for (const v1::Point& p : points) {
      Labels labels;
      for (const v1::Label& l : p.series().labels()) labels[l.name()] = l.value();
      out[labels] += p.value().counter();
    }
    return out;
  }

  std::unique_ptr<GenericProbe> probe_;
  WindowAccumulator acc_{absl::Minutes(10), {}};
};

TEST_F(GenericProbeBpfTest, UprobeCountsEveryCallExactly) {
  constexpr int kCalls = 1000;
  Target target({"count", absl::StrCat(kCalls)});
  v1::GenericProbe spec = Function(v1::GenericProbe::UPROBE, "andon_generic_target");
  FilterPid(spec, target.pid());
  ASSERT_TRUE(Start(spec).ok()) << Start(spec);
  EXPECT_EQ(probe_->status().attach_point(),
            absl::StrCat("uprobe:", kTarget, ":andon_generic_target"));
  ASSERT_EQ(target.Run(), 0);
  EXPECT_EQ(Counters(Finish()), (std::map<Labels, uint64_t>{{{}, kCalls}}));
  EXPECT_EQ(probe_->status().events(), uint64_t{kCalls});
  EXPECT_EQ(probe_->status().drops(), 0u);
}

TEST_F(GenericProbeBpfTest, LatencyMedianIsTheFunctionsDuration) {
  constexpr int kCalls = 50;
  constexpr double kBusyNs = 2e6;  // andon_generic_busy spins 2 ms
  Target target({"busy", absl::StrCat(kCalls)});
  v1::GenericProbe spec = Function(v1::GenericProbe::UPROBE, "andon_generic_busy");
  spec.set_value_mode(v1::GenericProbe::DISTRIBUTION);
  spec.mutable_value()->set_kind(Operand::LATENCY);
  FilterPid(spec, target.pid());
  ASSERT_TRUE(Start(spec).ok());
  EXPECT_EQ(probe_->Metrics()[0].unit(), "ns");
  ASSERT_EQ(target.Run(), 0);
  std::vector<v1::Point> points = Finish();
  ASSERT_EQ(points.size(), 1u);
  const v1::Distribution& d = points[0].value().distribution();
  EXPECT_EQ(d.count(), uint64_t{kCalls});
  EXPECT_GE(d.sum(), kBusyNs * kCalls);
  std::map<int32_t, uint64_t> sorted = value_test::BucketMap(d);
  uint64_t seen = 0;
  double median = 0;
  for (const auto& [index, n] : sorted) {
    seen += n;
    if (seen * 2 >= d.count()) {
      median = static_cast<double>(LogLinearBucketBounds(index).lower);
      break;
    }
  }
  // The bucket's lower bound is within 2^-7 of the true median, >= 2 ms.
  EXPECT_GE(median, kBusyNs * (1 - 0.01));
}

TEST_F(GenericProbeBpfTest, UretprobeSumsTheReturnValue) {
  constexpr int kCalls = 300;
  Target target({"count", absl::StrCat(kCalls)});
  v1::GenericProbe spec = Function(v1::GenericProbe::URETPROBE, "andon_generic_target");
  spec.set_value_mode(v1::GenericProbe::SUM);
  spec.mutable_value()->set_kind(Operand::RETVAL);
  FilterPid(spec, target.pid());
  ASSERT_TRUE(Start(spec).ok());
  ASSERT_EQ(target.Run(), 0);
  // andon_generic_target(i) returns 2 i, for i < kCalls.
  EXPECT_EQ(Counters(Finish()),
            (std::map<Labels, uint64_t>{{{}, uint64_t{kCalls} * (kCalls - 1)}}));
}

TEST_F(GenericProbeBpfTest, UprobeKeysByAStringArgument) {
  constexpr int kCalls = 40;
  Target target({"named", absl::StrCat(kCalls)});
  v1::GenericProbe spec = Function(v1::GenericProbe::UPROBE, "andon_generic_named");
  *spec.add_by() = Kind(Operand::STR_ARG, 0);
  FilterPid(spec, target.pid());
  ASSERT_TRUE(Start(spec).ok());
  ASSERT_EQ(target.Run(), 0);
  EXPECT_EQ(Counters(Finish()), (std::map<Labels, uint64_t>{{{{"arg0", "alpha"}}, kCalls / 2},
                                                            {{{"arg0", "beta"}}, kCalls / 2}}));
}

TEST_F(GenericProbeBpfTest, UsdtCountsEveryFiringKeyedByAnArgument) {
  constexpr int kFirings = 30;  // arg0 = i % 3
  Target target({"usdt", absl::StrCat(kFirings)});
  v1::GenericProbe spec;
  spec.set_type(v1::GenericProbe::USDT);
  spec.set_binary(kTarget);
  spec.set_provider("andon_test");
  spec.set_usdt_name("tick");
  spec.set_metric("generic_test");
  *spec.add_by() = Kind(Operand::ARG, 0);
  FilterPid(spec, target.pid());
  ASSERT_TRUE(Start(spec).ok()) << Start(spec);
  ASSERT_EQ(target.Run(), 0);
  EXPECT_EQ(Counters(Finish()), (std::map<Labels, uint64_t>{{{{"arg0", "0"}}, kFirings / 3},
                                                            {{{"arg0", "1"}}, kFirings / 3},
                                                            {{{"arg0", "2"}}, kFirings / 3}}));
}

v1::GenericProbe Forks() {
  v1::GenericProbe spec;
  spec.set_type(v1::GenericProbe::TRACEPOINT);
  spec.set_category("sched");
  spec.set_event("sched_process_fork");
  spec.set_metric("generic_test");
  return spec;
}

TEST_F(GenericProbeBpfTest, TracepointCountsTheForksOfOneCommByParentPid) {
  constexpr int kForks = 25;
  const std::string name = absl::StrCat("gf", getpid());
  Target target({"fork", absl::StrCat(kForks), name});
  const pid_t pid = target.pid();
  v1::GenericProbe spec = Forks();
  *spec.add_by() = Kind(Operand::FIELD, 0, "parent_pid");
  spec.mutable_filter()->mutable_operand()->set_kind(Operand::COMM);
  spec.mutable_filter()->set_op(v1::GenericProbe::Filter::EQ);
  spec.mutable_filter()->set_text(name);
  absl::Status started = Start(spec);
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(probe_->status().attach_point(), "tracepoint:sched:sched_process_fork");
  ASSERT_EQ(target.Run(), 0);
  EXPECT_EQ(Counters(Finish()),
            (std::map<Labels, uint64_t>{{{{"parent_pid", absl::StrCat(pid)}}, kForks}}));
}

TEST_F(GenericProbeBpfTest, TracepointFiltersOnAFieldAndKeysByAStringField) {
  constexpr int kForks = 12;
  const std::string name = absl::StrCat("gg", getpid());
  Target target({"fork", absl::StrCat(kForks), name});
  const pid_t pid = target.pid();
  v1::GenericProbe spec = Forks();
  *spec.add_by() = Kind(Operand::FIELD, 0, "child_comm");  // the child inherits the name
  *spec.mutable_filter()->mutable_operand() = Kind(Operand::FIELD, 0, "parent_pid");
  spec.mutable_filter()->set_op(v1::GenericProbe::Filter::EQ);
  spec.mutable_filter()->set_number(pid);
  ASSERT_TRUE(Start(spec).ok());
  ASSERT_EQ(target.Run(), 0);
  EXPECT_EQ(Counters(Finish()), (std::map<Labels, uint64_t>{{{{"child_comm", name}}, kForks}}));
}

TEST_F(GenericProbeBpfTest, SeriesBeyondTheBudgetAreFoldedIntoOther) {
  constexpr int kCalls = 10;  // arg0 = 0..9: ten label sets
  Target target({"count", absl::StrCat(kCalls)});
  v1::GenericProbe spec = Function(v1::GenericProbe::UPROBE, "andon_generic_target");
  *spec.add_by() = Kind(Operand::ARG, 0);
  FilterPid(spec, target.pid());
  GenericProbeOptions options;
  options.series_per_window = 3;
  ASSERT_TRUE(Start(spec, options).ok());
  ASSERT_EQ(target.Run(), 0);
  std::map<Labels, uint64_t> counters = Counters(Finish());
  ASSERT_EQ(counters.size(), 4u);
  EXPECT_EQ((counters[Labels{{"arg0", "other"}}]), 7u);
  uint64_t total = 0;
  for (const auto& [labels, n] : counters) total += n;
  EXPECT_EQ(total, uint64_t{kCalls});
  EXPECT_EQ(probe_->status().budget_folded(), 7u);
  EXPECT_THAT(probe_->status().budget_reason(), ::testing::HasSubstr("series budget of 3"));
}

TEST_F(GenericProbeBpfTest, EventBudgetSkipsAndCountsTheExcess) {
  constexpr int kCalls = 1000;
  Target target({"count", absl::StrCat(kCalls)});
  v1::GenericProbe spec = Function(v1::GenericProbe::UPROBE, "andon_generic_target");
  FilterPid(spec, target.pid());
  GenericProbeOptions options;
  options.events_per_second = 10;  // one event per CPU per 100 ms tick
  ASSERT_TRUE(Start(spec, options).ok());
  ASSERT_EQ(target.Run(), 0);
  std::map<Labels, uint64_t> counters = Counters(Finish());
  const uint64_t sampled = probe_->status().budget_sampled();
  EXPECT_GT(sampled, 0u);
  EXPECT_EQ(counters[Labels{}] + sampled, uint64_t{kCalls});
}

TEST_F(GenericProbeBpfTest, ErrorsNameWhatIsMissing) {
  absl::Status s = Start(Function(v1::GenericProbe::UPROBE, "no_such_function"));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ(s.message(), absl::StrCat("uprobe ", kTarget, ":no_such_function: symbol not found"));
  EXPECT_EQ(probe_->status().state(), v1::ProbeState::FAILED);

  v1::GenericProbe missing = Function(v1::GenericProbe::UPROBE, "f");
  missing.set_binary("/nonexistent/bin");
  EXPECT_EQ(Start(missing).message(),
            "uprobe /nonexistent/bin:f: binary /nonexistent/bin not found");

  v1::GenericProbe tp = Forks();
  tp.set_event("nosuch");
  EXPECT_EQ(Start(tp).message(),
            "tracepoint sched:nosuch: no such tracepoint (looked in /sys/kernel/tracing/events)");

  tp = Forks();
  *tp.add_by() = Kind(Operand::FIELD, 0, "nosuch");
  EXPECT_THAT(Start(tp).message(), ::testing::HasSubstr("no field 'nosuch'; its fields: "
                                                        "parent_comm, parent_pid, child_comm"));

  v1::GenericProbe usdt;
  usdt.set_type(v1::GenericProbe::USDT);
  usdt.set_binary(kTarget);
  usdt.set_provider("andon_test");
  usdt.set_usdt_name("nosuch");
  usdt.set_metric("generic_test");
  EXPECT_EQ(Start(usdt).message(),
            absl::StrCat("usdt ", kTarget, ":andon_test:nosuch: no such probe in ", kTarget));
}

// The fallback for hosts without tracefs reads the same layout from BTF.
TEST_F(GenericProbeBpfTest, BtfLayoutMatchesTracefs) {
  absl::StatusOr<TracepointFormat> tracefs = ReadTracepointFormat("sched", "sched_process_fork");
  ASSERT_TRUE(tracefs.ok()) << tracefs.status();
  ASSERT_EQ(tracefs->source, "tracefs");
  absl::StatusOr<std::vector<TracepointField>> btf = TracepointFieldsFromBtf("sched_process_fork");
  ASSERT_TRUE(btf.ok()) << btf.status();
  std::vector<std::string> from_tracefs, from_btf;
  for (const TracepointField& f : tracefs->fields) {
    if (f.name.rfind("common_", 0) == 0) continue;  // BTF has them as struct trace_entry
    from_tracefs.push_back(absl::StrCat(f.name, "@", f.offset, "/", static_cast<int>(f.kind)));
  }
  for (const TracepointField& f : *btf) {
    from_btf.push_back(absl::StrCat(f.name, "@", f.offset, "/", static_cast<int>(f.kind)));
  }
  EXPECT_EQ(from_btf, from_tracefs);
}

}  // namespace
}  // namespace andon::agent
