// Aggregator ingest throughput: N simulated agents, each on its own gRPC
// connection, stream windows of `series` counter points to a real
// andon-aggregator process (RocksDB in a temporary directory) for a fixed
// time. Prints points/s and batches/s accepted, and the aggregator's RSS.

#include <grpcpp/create_channel.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "tests/harness/local_cluster.h"
#include "tests/harness/subprocess.h"

ABSL_FLAG(int, agents, 32, "simulated agents, one connection and stream each");
ABSL_FLAG(int, series, 200, "counter series per agent per 1 s window");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "how long to push");

namespace andon::bench {
namespace {

v1::IngestBatch MakeBatch(const std::string& host, int series, int64_t window_s, uint64_t seq) {
  v1::IngestBatch b;
  b.set_sender_id(host);
  b.set_sender_kind(v1::AGENT);
  b.set_sequence(seq);
  for (int i = 0; i < series; ++i) {
    auto* p = b.add_points();
    auto* key = p->mutable_series();
    key->set_metric("syscalls");
    for (auto [n, v] : {std::pair<std::string, std::string>{"comm", absl::StrCat("proc", i % 50)},
                        {"host", host},
                        {"syscall", absl::StrCat("sys", i / 50)}}) {
      auto* l = key->add_labels();
      l->set_name(n);
      l->set_value(v);
    }
    p->set_window_start_ns(window_s * 1000000000);
    p->set_window_ns(1000000000);
    p->mutable_value()->set_counter(1 + i);
  }
  return b;
}

long RssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

int Run() {
  int agents = absl::GetFlag(FLAGS_agents);
  int series = absl::GetFlag(FLAGS_series);
  absl::Duration duration = absl::GetFlag(FLAGS_duration);

  char tmpl[] = "/tmp/andon-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string addr = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  std::string http = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  auto agg = testing::Subprocess::Start(
      {testing::BinDir() + "/andon-aggregator", "--id", "agg-bench", "--grpc_addr", addr,
       "--http_addr", http, "--data_dir", dir + "/data", "--controller", ""},
      dir + "/aggregator.log");
  if (!agg.ok()) {
    std::fprintf(stderr, "cannot start aggregator: %s\n",
                 std::string(agg.status().message()).c_str());
    return 1;
  }
  absl::SleepFor(absl::Milliseconds(500));

  std::atomic<int64_t> points{0}, batches{0}, failures{0};
  absl::Time start = absl::Now();
  absl::Time stop = start + duration;
  int64_t base_window = absl::ToUnixSeconds(start) - 3600;
  std::vector<std::thread> threads;
  for (int a = 0; a < agents; ++a) {
    threads.emplace_back([&, a] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetString("andon.bench.agent", absl::StrCat(a));  // distinct: one connection each
      auto channel = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
      auto stub = v1::Ingest::NewStub(channel);
      std::string host = absl::StrCat("bench-host-", a);
      grpc::ClientContext ctx;
      v1::IngestAck ack;
      auto writer = stub->Push(&ctx, &ack);
      uint64_t seq = 0;
      int64_t sent_points = 0, sent_batches = 0;
      while (absl::Now() < stop) {
        ++seq;
        if (!writer->Write(MakeBatch(host, series, base_window + seq, seq))) break;
        sent_points += series;
        ++sent_batches;
      }
      writer->WritesDone();
      grpc::Status st = writer->Finish();
      if (!st.ok()) {
        ++failures;
        std::fprintf(stderr, "agent %d: %s\n", a, st.error_message().c_str());
        return;
      }
      points += ack.points_accepted();
      batches += ack.batches_accepted();
    });
  }
  for (auto& t : threads) t.join();
  double secs = absl::ToDoubleSeconds(absl::Now() - start);
  long rss = RssKb(agg->pid());
  agg->Stop(SIGTERM, absl::Seconds(10));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  std::printf("ingest_bench: %d agents x %d series/window, %.1f s\n", agents, series, secs);
  std::printf(
      "| agents | series/window | points/s accepted | batches/s | aggregator RSS MiB | failed "
      "streams |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::printf("| %d | %d | %.0f | %.0f | %.0f | %lld |\n", agents, series, points / secs,
              batches / secs, rss / 1024.0, static_cast<long long>(failures.load()));
  return failures > 0 ? 1 : 0;
}

}  // namespace
}  // namespace andon::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return andon::bench::Run();
}
