// Memory per open window: fills the aggregator's RollupBuffer (the 10 s
// windows held in memory until they are rolled up) as a leaf under a fleet
// fills it, and prints the resident memory it took per open window (series
// x 10 s window) and per raw window, for counter series and for gauge
// series. Each kind is measured in a child process of its own, so one's
// freed memory does not hide the other's.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "aggregator/storage/rollup_buffer.h"

ABSL_FLAG(int, series, 400000, "series with an open window (2,000 hosts x 200 series)");
ABSL_FLAG(int, windows, 9, "1 s raw windows per series and 10 s window");
ABSL_FLAG(int, blocks, 2, "10 s windows open at once (the one filling, the one due)");

namespace {

long ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Fills a buffer with `gauges` or counters; returns resident bytes it took.
double Fill(bool gauges, size_t* open, size_t* raw) {
  using andon::aggregator::RawWindow;
  using andon::aggregator::RollupBuffer;
  constexpr int64_t kS = 1000000000;
  const long before = ResidentBytes();
  RollupBuffer buffer;
  *raw = 0;
  for (int block = 0; block < absl::GetFlag(FLAGS_blocks); ++block) {
    for (int s = 0; s < absl::GetFlag(FLAGS_windows); ++s) {
      for (uint64_t i = 0; i < static_cast<uint64_t>(absl::GetFlag(FLAGS_series)); ++i) {
        RawWindow w;
        w.start_ns = block * 10 * kS + s * kS;
        w.window_ns = kS;
        if (gauges) {
          andon::v1::Gauge* g = w.value.mutable_gauge();
          g->set_min(1);
          g->set_max(3);
          g->set_sum(4);
          g->set_count(2);
          g->set_last(3);
          g->set_last_time_ns(w.start_ns);
        } else {
          w.value.set_counter(i % 1000 + s);
        }
        // Ids spread as series ids are (hashes).
        if (buffer.Add(i * 0x9E3779B97F4A7C15ull, block * 10 * kS, w).ok()) ++*raw;
      }
    }
  }
  *open = buffer.size();
  return static_cast<double>(ResidentBytes() - before);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::printf(
      "open_windows: %d series x %d open 10 s windows x %d raw 1 s windows each, in the "
      "aggregator's RollupBuffer; resident memory of a process that holds only that.\n\n",
      absl::GetFlag(FLAGS_series), absl::GetFlag(FLAGS_blocks), absl::GetFlag(FLAGS_windows));
  std::printf(
      "| series kind | open windows | raw windows | resident MiB | bytes per open window "
      "| bytes per raw window |\n|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  for (bool gauges : {false, true}) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      size_t open = 0, raw = 0;
      const double bytes = Fill(gauges, &open, &raw);
      const std::string row = absl::StrFormat(
          "| %s | %d | %d | %.0f | %.0f | %.0f |\n", gauges ? "gauge" : "counter", open, raw,
          bytes / (1 << 20), bytes / static_cast<double>(open), bytes / static_cast<double>(raw));
      (void)!write(fds[1], row.data(), row.size());
      _exit(0);
    }
    close(fds[1]);
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) std::fwrite(buf, 1, n, stdout);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  return 0;
}
