/* The workload of e2e_probes_bpf_test. The test copies this binary under a
 * name unique to the test process, so its uprobes (attached to the copy's
 * inode) and its comm are seen by no other test. Runs MODE N times, exits 0.
 *   count N   andon_e2e_target(i) for i in 0..N-1 (returns 2*i)
 *   busy N    andon_e2e_busy(), which spins 2 ms on CLOCK_MONOTONIC, N times
 *   usdt N    the USDT probe andon_e2e:tick(i % 3, i), N times
 *   fork N    forks N children that exit at once, waiting for each
 *   spin 0    spins forever in andon_e2e_spin_5c1d (for the profiler)
 * Built with -O0 -fno-omit-frame-pointer -fno-inline: every call is a real
 * call site and the profiler's unwinder can walk the frames. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUSY_NS 2000000LL

__attribute__((noinline)) long andon_e2e_target(long x) { return 2 * x; }

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) void andon_e2e_busy(void) {
  long long start = now_ns();
  while (now_ns() - start < BUSY_NS) {
  }
}

__attribute__((noinline)) void andon_e2e_spin_5c1d(volatile uint64_t* x) {
  for (;;) *x += 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s count|busy|usdt|fork|spin N\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  long n = atol(argv[2]);
  volatile long sink = 0;
  if (strcmp(mode, "spin") == 0) {
    volatile uint64_t x = 0;
    andon_e2e_spin_5c1d(&x);
    return 0;
  }
  for (long i = 0; i < n; i++) {
    if (strcmp(mode, "count") == 0) {
      sink += andon_e2e_target(i);
    } else if (strcmp(mode, "busy") == 0) {
      andon_e2e_busy();
    } else if (strcmp(mode, "usdt") == 0) {
      DTRACE_PROBE2(andon_e2e, tick, i % 3, i);
    } else if (strcmp(mode, "fork") == 0) {
      pid_t child = fork();
      if (child < 0) return 4;
      if (child == 0) _exit(0);
      if (waitpid(child, NULL, 0) != child) return 5;
    } else {
      return 2;
    }
  }
  return 0;
}
