#include "bench/fleet_sim/sim_worker.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/controller_client.h"
#include "bench/fleet_sim/sim_agent.h"
#include "bench/fleet_sim/sim_events.h"
#include "common/process.h"

namespace andon::bench {
namespace {

// How often the timer thread walks the agents; heartbeats and batches are
// due at whole intervals, so this is their jitter.
constexpr absl::Duration kTick = absl::Milliseconds(20);

// One command line from `fd`, or false at end of input.
bool ReadLine(int fd, std::string* line) {
  line->clear();
  char c;
  while (true) {
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return !line->empty();
    if (c == '\n') return true;
    line->push_back(c);
  }
}

}  // namespace

int RunSimWorker(const SimWorkerOptions& options, int command_fd, int event_fd) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  RaiseOpenFileLimit();
  SimEventSink events(event_fd);
  const agent::ControllerClientOptions real_agent;
  std::vector<std::unique_ptr<SimAgent>> agents;
  std::atomic<bool> ticking{false};
  std::thread ticker;
  std::string line;
  while (ReadLine(command_fd, &line)) {
    if (absl::StartsWith(line, "start ") && agents.empty()) {
      const std::string controller(absl::StripPrefix(line, "start "));
      for (int i = 0; i < options.count; ++i) {
        agents.push_back(std::make_unique<SimAgent>(
            SimAgentOptions{.index = options.first + i,
                            .controller = controller,
                            .backoff_initial = real_agent.backoff_initial,
                            .backoff_max = real_agent.backoff_max,
                            .register_timeout = real_agent.register_timeout,
                            .ingest_interval = options.ingest_interval},
            &events));
      }
      ticking = true;
      ticker = std::thread([&] {
        while (ticking) {
          const absl::Time now = absl::Now();
          const int64_t now_ns = absl::ToUnixNanos(now);
          for (auto& a : agents) {
            if (a->Due(now_ns)) a->Tick(now);
          }
          events.Flush();
          absl::SleepFor(kTick);
        }
      });
    } else if (line == "mark") {
      for (auto& a : agents) a->Mark();
    } else if (line == "quit") {
      break;
    } else {
      std::fprintf(stderr, "fleet_sim worker: unknown command '%s'\n", line.c_str());
    }
  }
  ticking = false;
  if (ticker.joinable()) ticker.join();
  for (auto& a : agents) a->Stop();
  for (auto& a : agents) {
    while (!a->Quiet()) absl::SleepFor(absl::Milliseconds(10));
  }
  agents.clear();
  events.Flush();
  return 0;
}

}  // namespace andon::bench
