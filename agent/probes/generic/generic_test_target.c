/* The workload of generic_probe_bpf_test: waits for one byte on stdin (so
 * the test can attach first), then runs MODE N times and exits.
 *   count N       andon_generic_target(i) for i in 0..N-1 (returns 2*i)
 *   busy N        andon_generic_busy(), which spins for 2 ms, N times
 *   usdt N        the USDT probe andon_test:tick(i % 3, i), N times
 *   named N       andon_generic_named("alpha") for even i, ("beta") for odd
 *   fork N NAME   renames itself NAME, then forks N children that exit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sdt.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUSY_NS 2000000LL

__attribute__((noinline)) long andon_generic_target(long x) { return 2 * x; }

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) void andon_generic_busy(void) {
  long long start = now_ns();
  while (now_ns() - start < BUSY_NS) {
  }
}

__attribute__((noinline)) size_t andon_generic_named(const char* name) { return strlen(name); }

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s count|busy|usdt|named|fork N [NAME]\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  long n = atol(argv[2]);
  char go;
  if (read(0, &go, 1) != 1) return 3;
  volatile long sink = 0;
  for (long i = 0; i < n; i++) {
    if (strcmp(mode, "count") == 0) {
      sink += andon_generic_target(i);
    } else if (strcmp(mode, "busy") == 0) {
      andon_generic_busy();
    } else if (strcmp(mode, "usdt") == 0) {
      DTRACE_PROBE2(andon_test, tick, i % 3, i);
    } else if (strcmp(mode, "named") == 0) {
      sink += andon_generic_named(i % 2 == 0 ? "alpha" : "beta");
    } else if (strcmp(mode, "fork") == 0) {
      if (i == 0 && argc > 3) prctl(PR_SET_NAME, argv[3], 0, 0, 0);
      pid_t child = fork();
      if (child < 0) return 4;
      if (child == 0) _exit(0);
      waitpid(child, NULL, 0);
    } else {
      return 2;
    }
  }
  return 0;
}
