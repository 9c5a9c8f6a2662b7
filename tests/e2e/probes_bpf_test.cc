// Fidelity of remote probes, end to end: each test enables a probe
// configuration through the controller's API, waits until the agent reports
// it applied, runs a workload, and reads the result back through the
// controller's query router — agent, BPF, aggregator and controller all real.
//
// Other tests (and their agents) may run on this machine at the same time:
// the workload is a copy of e2e_probe_workload under a name unique to this
// test process, so its uprobes (attached to the copy's inode) and its comm
// belong to this test alone.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/loop.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/test_loop_device.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/e2e/bpf_available.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/probe_waits.h"

namespace andon::testing {
namespace {

using ::andon::agent::testing::LoopDevice;

constexpr absl::Duration kApplyTimeout = absl::Seconds(30);
constexpr absl::Duration kDataTimeout = absl::Seconds(30);
constexpr int kMarkerCalls = 500;

std::string Pid() { return std::to_string(::getpid() % 100000); }

// A child started with fork+exec, killed and reaped on destruction if it
// still runs.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Kills and reaps the child now.
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // Waits for the exit; returns the exit code, or -1 if killed by a signal.
  int Wait() {
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

class ProbesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = BpfUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    cluster_ = std::make_unique<LocalCluster>(LocalCluster::Options{});
    absl::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s;
    // Comm is the file's name, at most 15 characters.
    comm_ = "pw" + Pid();
    workload_ = cluster_->dir() + "/" + comm_;
    std::filesystem::copy_file(PROBE_WORKLOAD, workload_);
    std::filesystem::permissions(workload_, std::filesystem::perms(0755));
  }

  sdk::Client& client() { return cluster_->client(); }
  const std::string& host() const { return cluster_->host_id(); }

  // Creates configuration `name` with one probe.
  absl::StatusOr<v1::ProbeConfig> Put(const std::string& name, v1::ProbeSpec spec) {
    v1::PutProbeConfigRequest req;
    req.set_name(name);
    *req.add_probes() = std::move(spec);
    return client().PutProbeConfig(req);
  }

  // Creates configuration `name` and waits until the host applied it.
  absl::Status Enable(const std::string& name, v1::ProbeSpec spec) {
    absl::StatusOr<v1::ProbeConfig> config = Put(name, std::move(spec));
    if (!config.ok()) return config.status();
    absl::StatusOr<v1::ProbeConfigStatus> status =
        WaitForProbeApplied(client(), name, kApplyTimeout);
    if (!status.ok()) {
      return absl::Status(status.status().code(),
                          absl::StrCat(status.status().message(), "\n", cluster_->LogTails()));
    }
    return absl::OkStatus();
  }

  static v1::ProbeSpec Spec(const std::string& probe, std::vector<std::string> by = {},
                            const std::string& value = "", const std::string& filter = "") {
    v1::ProbeSpec spec;
    spec.set_probe(probe);
    for (std::string& b : by) spec.add_by(std::move(b));
    spec.set_value(value);
    spec.set_filter(filter);
    return spec;
  }

  // `metric` on this cluster's host, grouped by `group_by`.
  v1::QueryRequest Query(const std::string& metric, std::vector<std::string> group_by = {}) {
    v1::QueryRequest req;
    req.set_metric(metric);
    sdk::AddEqualMatcher(req, "host", host());
    for (std::string& g : group_by) req.add_group_by(std::move(g));
    return req;
  }

  // Runs the workload copy in `mode` `n` times to its end; returns its pid.
  pid_t RunWorkload(const std::string& mode, int n) {
    Child child({workload_, mode, std::to_string(n)});
    const pid_t pid = child.pid();
    EXPECT_EQ(child.Wait(), 0) << "workload " << mode << " " << n;
    return pid;
  }

  // Proof that the pipeline is alive and has delivered everything done
  // before this call: a child with a fresh name makes kMarkerCalls getppid
  // calls, and its syscalls count arrives. The agent reads its probes'
  // kernel maps together each window and sends windows in order, so every
  // window holding earlier work has been stored by then.
  absl::Status Marker() {
    const std::string comm = absl::StrCat("mk", Pid(), "_", ++markers_);
    pid_t pid = ::fork();
    if (pid < 0) return absl::InternalError("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
      for (int i = 0; i < kMarkerCalls; ++i) ::syscall(SYS_getppid);
      _exit(0);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError("the marker child failed");
    }
    v1::QueryRequest req = Query("syscalls", {"comm"});
    sdk::AddEqualMatcher(req, "comm", comm);
    sdk::AddEqualMatcher(req, "syscall", "getppid");
    absl::StatusOr<v1::QueryResponse> got =
        WaitForQueryTotal(client(), req, kMarkerCalls, kDataTimeout);
    if (!got.ok()) {
      return absl::Status(got.status().code(),
                          absl::StrCat(got.status().message(), "\n", cluster_->LogTails()));
    }
    return absl::OkStatus();
  }

  // Totals per value of the single group_by label.
  static std::map<std::string, double> PerKey(const v1::QueryResponse& r) {
    std::map<std::string, double> out;
    for (const v1::Series& s : r.series()) {
      out[s.labels_size() > 0 ? s.labels(0).value() : ""] += s.total();
    }
    return out;
  }

  // Waits until `req` totals at least `want`, then until the pipeline has
  // delivered everything after the workload, and returns the final answer,
  // for exact comparisons (an overcount would show up in it).
  absl::StatusOr<v1::QueryResponse> Settled(const v1::QueryRequest& req, double want) {
    absl::StatusOr<v1::QueryResponse> first = WaitForQueryTotal(client(), req, want, kDataTimeout);
    if (!first.ok()) {
      return absl::Status(first.status().code(),
                          absl::StrCat(first.status().message(), "\n", cluster_->LogTails()));
    }
    absl::Status alive = Marker();
    if (!alive.ok()) return alive;
    return WaitForQuery(
        client(), req, [](const v1::QueryResponse&) { return true; }, kDataTimeout);
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::string comm_;      // the workload copy's name and comm
  std::string workload_;  // its path
  int markers_ = 0;
};

TEST_F(ProbesE2eTest, UprobeCountsEveryCallExactly) {
  constexpr int kCalls = 2000;
  const std::string name = "e2e_up_" + Pid();
  absl::Status s =
      Enable(name, Spec("uprobe:" + workload_ + ":andon_e2e_target", {}, "", "comm=" + comm_));
  ASSERT_TRUE(s.ok()) << s;
  RunWorkload("count", kCalls);
  absl::StatusOr<v1::QueryResponse> got = Settled(Query(name), kCalls);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->kind(), v1::COUNTER);
  EXPECT_EQ(TotalOf(*got), kCalls) << got->DebugString();
}

// Every call of a function that spins 2 ms is counted, and the median of
// their latency distribution, through the controller's quantile(0.5), is
// within the histogram's error of 2 ms (plus the probe's own overhead).
TEST_F(ProbesE2eTest, UprobeLatencyCountsEveryCallOfATwoMillisecondFunction) {
  constexpr int kCalls = 50;
  const std::string name = "e2e_lat_" + Pid();
  absl::Status s =
      Enable(name, Spec("uprobe:" + workload_ + ":andon_e2e_busy", {}, "latency", "comm=" + comm_));
  ASSERT_TRUE(s.ok()) << s;
  RunWorkload("busy", kCalls);
  absl::StatusOr<v1::QueryResponse> got = Settled(Query(name), kCalls);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->kind(), v1::DISTRIBUTION);
  EXPECT_EQ(TotalOf(*got), kCalls) << got->DebugString();

  v1::QueryRequest median = Query(name);
  median.set_fn("quantile(0.5)");
  absl::StatusOr<v1::QueryResponse> p50 = WaitForQuery(
      client(), median, [](const v1::QueryResponse& r) { return r.series_size() == 1; },
      kDataTimeout);
  ASSERT_TRUE(p50.ok()) << p50.status();
  EXPECT_EQ(p50->unit(), "ns");
  constexpr double kBusyNs = 2'000'000;
  // The function spins at least 2 ms; the bucket holding the median is at
  // most 1/128 wide; entry and return probes add microseconds.
  EXPECT_GE(p50->series(0).total(), kBusyNs * (1 - 1.0 / 256)) << p50->DebugString();
  EXPECT_LE(p50->series(0).total(), kBusyNs * 1.02) << p50->DebugString();

  absl::StatusOr<v1::ListMetricsResponse> metrics = client().ListMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  bool found = false;
  for (const v1::MetricInfo& m : metrics->metrics()) {
    if (m.name() != name) continue;
    found = true;
    EXPECT_EQ(m.kind(), v1::DISTRIBUTION);
    EXPECT_EQ(m.unit(), "ns");
  }
  EXPECT_TRUE(found) << metrics->DebugString();
}

TEST_F(ProbesE2eTest, UsdtCountsEveryFiringKeyedByAnArgument) {
  constexpr int kFirings = 300;  // arg0 = i % 3
  const std::string name = "e2e_usdt_" + Pid();
  absl::Status s =
      Enable(name, Spec("usdt:" + workload_ + ":andon_e2e:tick", {"arg0"}, "", "comm=" + comm_));
  ASSERT_TRUE(s.ok()) << s;
  RunWorkload("usdt", kFirings);
  absl::StatusOr<v1::QueryResponse> got = Settled(Query(name, {"arg0"}), kFirings);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(PerKey(*got), (std::map<std::string, double>{
                              {"0", kFirings / 3}, {"1", kFirings / 3}, {"2", kFirings / 3}}))
      << got->DebugString();
}

TEST_F(ProbesE2eTest, TracepointCountsTheForksOfOneProgram) {
  constexpr int kForks = 25;
  const std::string name = "e2e_fork_" + Pid();
  // sched_process_fork runs in the parent: comm is the forking program's.
  absl::Status s = Enable(
      name, Spec("tracepoint:sched:sched_process_fork", {"parent_pid"}, "", "comm=" + comm_));
  ASSERT_TRUE(s.ok()) << s;
  const pid_t pid = RunWorkload("fork", kForks);
  absl::StatusOr<v1::QueryResponse> got = Settled(Query(name, {"parent_pid"}), kForks);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(PerKey(*got), (std::map<std::string, double>{{std::to_string(pid), kForks}}))
      << got->DebugString();
}

// fio's own count of the bytes it moved, per direction, from its JSON report.
struct FioBytes {
  double read = 0;
  double write = 0;
};

absl::StatusOr<FioBytes> FioReport(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  google::protobuf::Struct report;
  // fio may print notes before the JSON object.
  const std::string all = text.str();
  const size_t brace = all.find('{');
  if (brace == std::string::npos) {
    return absl::InternalError(absl::StrCat("no JSON report in ", path, ": ", all));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(all.substr(brace), &report, options);
  if (!parsed.ok()) {
    return absl::InternalError(absl::StrCat("fio's report ", path, ": ", parsed.ToString()));
  }
  FioBytes out;
  for (const google::protobuf::Value& job : report.fields().at("jobs").list_value().values()) {
    const auto& fields = job.struct_value().fields();
    out.read += fields.at("read").struct_value().fields().at("io_bytes").number_value();
    out.write += fields.at("write").struct_value().fields().at("io_bytes").number_value();
  }
  return out;
}

// Direct block I/O from fio, reads and writes, is counted within 1 % of what
// fio says it moved, per direction.
TEST_F(ProbesE2eTest, BiolatencyCountsFiosDirectIoWithinOnePercent) {
  const std::string fio = "/usr/bin/fio";
  ASSERT_TRUE(std::filesystem::exists(fio))
      << fio << " is missing: deploy/install-deps.sh installs Debian's fio package";
  // The device exists before the probe does, so no earlier user of the same
  // loop number can add to its counts.
  std::string error;
  std::unique_ptr<LoopDevice> loop = LoopDevice::Create(64 << 20, &error);
  ASSERT_NE(loop, nullptr) << error;
  const std::string name = "e2e_io_" + Pid();
  absl::Status s = Enable(name, Spec("biolatency"));
  ASSERT_TRUE(s.ok()) << s;

  // Mixed random reads and writes of mixed sizes, O_DIRECT, on the raw
  // device: nothing else reads or writes it.
  const std::string report = cluster_->dir() + "/fio.json";
  Child run({fio, "--name=andon_e2e", "--filename=" + loop->path(), "--direct=1",
             "--ioengine=psync", "--rw=randrw", "--rwmixread=40", "--bsrange=4k-256k", "--size=48M",
             "--io_size=32M", "--randseed=7", "--output-format=json", "--output=" + report});
  ASSERT_EQ(run.Wait(), 0) << "fio failed; its report: " << report;
  absl::StatusOr<FioBytes> moved = FioReport(report);
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_GT(moved->read, 0);
  ASSERT_GT(moved->write, 0);

  for (const auto& [op, want] : {std::pair<std::string, double>{"read", moved->read},
                                 std::pair<std::string, double>{"write", moved->write}}) {
    v1::QueryRequest bytes = Query("bio_bytes");
    sdk::AddEqualMatcher(bytes, "disk", loop->name());
    sdk::AddEqualMatcher(bytes, "op", op);
    // Waits for 99 % of it: a probe that counts a little less must still be
    // compared, not time out.
    absl::StatusOr<v1::QueryResponse> got = Settled(bytes, want * 0.99);
    ASSERT_TRUE(got.ok()) << op << ": " << got.status();
    std::cerr << op << ": fio moved " << want << " bytes, bio_bytes counted " << TotalOf(*got)
              << "\n";
    EXPECT_GE(TotalOf(*got), want * 0.99) << op << ": fio moved " << want;
    EXPECT_LE(TotalOf(*got), want * 1.01) << op << ": fio moved " << want;

    v1::QueryRequest requests = Query("bio_latency_ns");
    sdk::AddEqualMatcher(requests, "disk", loop->name());
    sdk::AddEqualMatcher(requests, "op", op);
    absl::StatusOr<v1::QueryResponse> latency =
        WaitForQueryTotal(client(), requests, 1, kDataTimeout);
    EXPECT_TRUE(latency.ok()) << op << ": " << latency.status();
  }
}

// A program spinning in one function shows that function in at least 90 %
// of its profile samples: the folded stacks come back through the
// controller's topk() with their bounds.
TEST_F(ProbesE2eTest, ProfileSamplesABusyProgramByItsName) {
  const std::string name = "e2e_cpu_" + Pid();
  v1::ProbeSpec spec = Spec("profile");
  (*spec.mutable_params())["frequency_hz"] = "99";
  absl::Status s = Enable(name, spec);
  ASSERT_TRUE(s.ok()) << s;
  Child spinner({workload_, "spin", "0"});
  ASSERT_GT(spinner.pid(), 0);
  v1::QueryRequest req = Query("cpu_profile", {"comm"});
  sdk::AddEqualMatcher(req, "comm", comm_);
  // 99 Hz on the spinning CPU: a few seconds of samples.
  constexpr double kSamples = 200;
  absl::StatusOr<v1::QueryResponse> got = WaitForQueryTotal(client(), req, kSamples, kDataTimeout);
  ASSERT_TRUE(got.ok()) << got.status() << "\n" << cluster_->LogTails();
  EXPECT_EQ(got->kind(), v1::TOP_K);
  spinner.Kill();
  // Both queries over the same settled windows: the program is gone.
  ASSERT_TRUE(Marker().ok());
  absl::StatusOr<v1::QueryResponse> all = WaitForQuery(
      client(), req, [](const v1::QueryResponse&) { return true; }, kDataTimeout);
  ASSERT_TRUE(all.ok()) << all.status();
  v1::QueryRequest top = req;
  top.set_fn("topk(100)");
  absl::StatusOr<v1::QueryResponse> stacks = WaitForQuery(
      client(), top, [](const v1::QueryResponse&) { return true; }, kDataTimeout);
  ASSERT_TRUE(stacks.ok()) << stacks.status();
  double in_function = 0;  // a lower bound: count - error of each stack
  for (const v1::Series& s : stacks->series()) {
    for (const v1::Label& l : s.labels()) {
      if (l.name() == "key" && absl::StrContains(l.value(), "andon_e2e_spin_5c1d")) {
        in_function += s.total() - static_cast<double>(s.error());
      }
    }
  }
  EXPECT_GE(in_function, 0.9 * TotalOf(*all)) << stacks->DebugString();
}

TEST_F(ProbesE2eTest, DisabledProbeDetachesAndCountsNoMore) {
  ASSERT_NE(cluster_->agent(), nullptr);
  const pid_t agent = cluster_->agent()->pid();
  absl::StatusOr<int> links_before = CountBpfLinks(agent);
  ASSERT_TRUE(links_before.ok()) << links_before.status();

  constexpr int kCalls = 500;
  const std::string name = "e2e_off_" + Pid();
  absl::Status s = Enable(
      name, Spec("uprobe:" + workload_ + ":andon_e2e_target", {}, "latency", "comm=" + comm_));
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<int> links_on = CountBpfLinks(agent);
  ASSERT_TRUE(links_on.ok()) << links_on.status();
  EXPECT_GT(*links_on, *links_before);
  RunWorkload("count", kCalls);
  absl::StatusOr<v1::QueryResponse> got = Settled(Query(name), kCalls);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(TotalOf(*got), kCalls) << got->DebugString();

  absl::StatusOr<v1::DeleteProbeConfigResponse> deleted = client().DeleteProbeConfig(name);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  // Applied at the delete's version, the probe gone: the agent has
  // finished reconciling (it publishes the version after stopping probes).
  absl::StatusOr<v1::Host> after = WaitForHost(
      client(), host(),
      [&](const v1::Host& h) {
        if (h.last_heartbeat().applied_config_version() < deleted->version()) return false;
        for (const v1::ProbeState& p : h.last_heartbeat().probes()) {
          if (p.key() == name) return false;
        }
        return true;
      },
      kApplyTimeout);
  ASSERT_TRUE(after.ok()) << after.status() << "\n" << cluster_->LogTails();
  absl::StatusOr<int> links_off = CountBpfLinks(agent);
  ASSERT_TRUE(links_off.ok()) << links_off.status();
  EXPECT_EQ(*links_off, *links_before);

  RunWorkload("count", kCalls);
  ASSERT_TRUE(Marker().ok());
  absl::StatusOr<v1::QueryResponse> later = WaitForQuery(
      client(), Query(name), [](const v1::QueryResponse&) { return true; }, kDataTimeout);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(TotalOf(*later), kCalls) << later->DebugString();
}

TEST_F(ProbesE2eTest, FailingProbeIsReportedAndOthersKeepRunning) {
  constexpr int kCalls = 300;
  const std::string good = "e2e_ok_" + Pid();
  absl::Status s =
      Enable(good, Spec("uprobe:" + workload_ + ":andon_e2e_target", {}, "", "comm=" + comm_));
  ASSERT_TRUE(s.ok()) << s;

  const std::string bad = "e2e_bad_" + Pid();
  ASSERT_TRUE(Put(bad, Spec("uprobe:" + workload_ + ":andon_e2e_no_such_function")).ok());
  absl::StatusOr<v1::ProbeConfigStatus> status = WaitForProbeStatus(
      client(), bad, [](const v1::ProbeConfigStatus& st) { return st.hosts_failed() == 1; },
      kApplyTimeout);
  ASSERT_TRUE(status.ok()) << status.status() << "\n" << cluster_->LogTails();
  EXPECT_EQ(status->hosts_applied(), 0u);
  ASSERT_EQ(status->failures_size(), 1) << status->DebugString();
  EXPECT_TRUE(absl::StrContains(status->failures(0).reason(), "symbol not found"))
      << status->DebugString();
  ASSERT_EQ(status->hosts_size(), 1);
  EXPECT_EQ(status->hosts(0).state(), v1::ProbeConfigStatus::HostState::FAILED);
  ASSERT_EQ(status->hosts(0).probes_size(), 1);
  EXPECT_EQ(status->hosts(0).probes(0).state(), v1::ProbeState::FAILED);

  // The good configuration is still applied and still counts exactly, and
  // the default configuration's syscalls still arrive (Settled's marker).
  absl::StatusOr<v1::ProbeConfigStatus> good_status = client().ProbeStatus(good);
  ASSERT_TRUE(good_status.ok()) << good_status.status();
  EXPECT_EQ(good_status->hosts_applied(), 1u) << good_status->DebugString();
  RunWorkload("count", kCalls);
  absl::StatusOr<v1::QueryResponse> got = Settled(Query(good), kCalls);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(TotalOf(*got), kCalls) << got->DebugString();
}

}  // namespace
}  // namespace andon::testing
