// Tree reduction: how many points the root of a two-level tree stores per
// point its leaves receive, with the default forwarding rules (host dropped).
// Starts a real controller, a root and two leaves (LocalCluster), registers
// N simulated hosts (each lands on a leaf by the controller's sharding) and
// pushes W one-second windows of S counter series per host to their leaves
// over the real Ingest API. Hosts run overlapping software, as a fleet does:
// each picks 20 processes of a pool of 50 by its id, with 10 syscalls each.
// After the leaves have forwarded everything (no open window, empty outbox),
// counts the stored points at the root with a query at the window's step,
// and checks the root's sum equals the sum pushed. Prints a table.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "andon/v1/agent.grpc.pb.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "andon/v1/query.grpc.pb.h"
#include "bench/proc_usage.h"
#include "common/grpc_channel.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/scrape.h"

ABSL_FLAG(int, hosts, 500, "simulated hosts");
ABSL_FLAG(int, windows, 10, "one-second windows per host");
ABSL_FLAG(int, admission_delay_s, 60, "the leaves' --admission_delay, in seconds");

namespace andon::bench {
namespace {

constexpr int kProcsPerHost = 20, kProcPool = 50, kSyscallsPerProc = 10;

v1::IngestBatch HostWindow(const std::string& host, int host_index, int64_t window_s, uint64_t seq,
                           uint64_t* sum) {
  v1::IngestBatch b;
  b.set_sender_id(host);
  b.set_sender_kind(v1::AGENT);
  b.set_sequence(seq);
  for (int p = 0; p < kProcsPerHost; ++p) {
    const int proc = (host_index * 7 + p * 3) % kProcPool;
    for (int s = 0; s < kSyscallsPerProc; ++s) {
      v1::Point* point = b.add_points();
      auto* key = point->mutable_series();
      key->set_metric("syscalls");
      for (auto [n, v] : {std::pair<std::string, std::string>{"comm", absl::StrCat("proc", proc)},
                          {"host", host},
                          {"syscall", absl::StrCat("sys", s)}}) {
        auto* l = key->add_labels();
        l->set_name(n);
        l->set_value(v);
      }
      point->set_window_start_ns(window_s * 1000000000);
      point->set_window_ns(1000000000);
      const uint64_t count = 1 + (host_index + p + s) % 97;
      point->mutable_value()->set_counter(count);
      *sum += count;
    }
  }
  return b;
}

double Scrape(const std::string& http, const std::string& name) {
  absl::StatusOr<double> v = testing::ScrapeMetric(http, name);
  return v.ok() ? *v : -1;
}

int Run() {
  const int hosts = absl::GetFlag(FLAGS_hosts);
  const int windows = absl::GetFlag(FLAGS_windows);
  // Agents send each window within a second of its end; this program sends
  // them as fast as the machine takes them, which for a large fleet is
  // slower than real time. A long admission delay keeps every window in
  // time, so what is measured is the reduction, not late amendments (those
  // go up unreduced, one per late batch, so that a crash loses none).
  testing::LocalCluster cluster(testing::LocalCluster::Options{
      .with_agent = false,
      .leaves = 2,
      .leaf_admission_delay = absl::StrCat(absl::GetFlag(FLAGS_admission_delay_s), "s")});
  if (absl::Status s = cluster.Start(); !s.ok()) {
    std::fprintf(stderr, "tree_reduction: cluster did not start: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  auto control = v1::AgentControl::NewStub(NewChannel(cluster.controller_grpc()));
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs;
  std::vector<std::string> ids;
  for (int i = 0; i < hosts; ++i) {
    const std::string host = absl::StrCat("fleet-host-", i);
    v1::RegisterRequest req;
    req.set_instance_id(absl::StrFormat("%032x", 0x5000 + i));
    req.mutable_host()->set_host_id(host);
    grpc::ClientContext ctx;
    v1::RegisterResponse resp;
    if (grpc::Status st = control->Register(&ctx, req, &resp); !st.ok()) {
      std::fprintf(stderr, "tree_reduction: register %s: %s\n", host.c_str(),
                   st.error_message().c_str());
      return 1;
    }
    ids.push_back(host);
    stubs.push_back(v1::Ingest::NewStub(NewChannel(resp.aggregator().address())));
  }
  const int64_t t0 = absl::ToUnixSeconds(absl::Now());
  uint64_t sum = 0, points = 0;
  for (int w = 0; w < windows; ++w) {
    for (int i = 0; i < hosts; ++i) {
      v1::IngestBatch b = HostWindow(ids[i], i, t0 + w, w + 1, &sum);
      points += b.points_size();
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::IngestAck ack;
      auto writer = stubs[i]->Push(&ctx, &ack);
      writer->Write(b);
      writer->WritesDone();
      if (grpc::Status st = writer->Finish(); !st.ok()) {
        std::fprintf(stderr, "tree_reduction: push: %s\n", st.error_message().c_str());
        return 1;
      }
    }
  }
  // Everything forwarded: no open window and an empty outbox at both leaves.
  if (absl::Status s = cluster.WaitForLeavesForwarded(
          absl::Seconds(120 + absl::GetFlag(FLAGS_admission_delay_s)));
      !s.ok()) {
    std::fprintf(stderr, "tree_reduction: the leaves did not finish forwarding: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  double leaf_in = 0, leaf_out = 0, leaf_cpu = 0, late = 0;
  for (int i = 0; i < 2; ++i) {
    late += Scrape(cluster.leaf_http(i), "andon_aggregator_forward_late_points_total");
    leaf_in += Scrape(cluster.leaf_http(i), "andon_aggregator_ingest_points_received_total");
    leaf_out += Scrape(cluster.leaf_http(i), "andon_aggregator_forward_points_out_total");
    absl::StatusOr<ProcCpu> cpu = ReadProcCpu(cluster.leaf(i)->pid());
    if (cpu.ok()) leaf_cpu += cpu->user_s + cpu->system_s;
  }
  const double root_in =
      Scrape(cluster.aggregator_http(), "andon_aggregator_ingest_points_received_total");
  // Points stored at the root: its (series, window) pairs over the run.
  v1::QueryRequest q;
  q.set_metric("syscalls");
  q.mutable_start()->set_seconds(t0);
  q.mutable_end()->set_seconds(t0 + windows);
  q.mutable_step()->set_seconds(1);
  q.add_group_by("comm");
  q.add_group_by("syscall");
  q.set_limit(100000);
  auto stub = v1::Query::NewStub(NewChannel(cluster.aggregator_grpc()));
  grpc::ClientContext ctx;
  v1::QueryResponse resp;
  if (grpc::Status st = stub->Query(&ctx, q, &resp); !st.ok()) {
    std::fprintf(stderr, "tree_reduction: root query: %s\n", st.error_message().c_str());
    return 1;
  }
  double root_points = 0, root_sum = 0;
  for (const auto& s : resp.series()) {
    root_points += s.points_size();
    root_sum += s.total();
  }
  std::printf(
      "tree_reduction: %d hosts x %d series x %d one-second windows, two leaves under a "
      "root, default rules (host dropped), leaves' admission delay %d s; late points "
      "at the leaves: %.0f\n",
      hosts, kProcsPerHost * kSyscallsPerProc, windows, absl::GetFlag(FLAGS_admission_delay_s),
      late);
  std::printf(
      "| points pushed | received at leaves | forwarded by leaves | received at root | "
      "stored at root | reduction (leaves in : root stored) | root sum = pushed | leaf CPU "
      "s (both, whole run) |\n|---|---|---|---|---|---|---|---|\n");
  std::printf("| %llu | %.0f | %.0f | %.0f | %.0f | %.0f:1 | %s | %.2f |\n",
              static_cast<unsigned long long>(points), leaf_in, leaf_out, root_in, root_points,
              root_points > 0 ? leaf_in / root_points : 0.0,
              root_sum == static_cast<double>(sum)
                  ? "yes"
                  : absl::StrCat("NO (", root_sum, " vs ", sum, ")").c_str(),
              leaf_cpu);
  return root_sum == static_cast<double>(sum) ? 0 : 1;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
