/* The workload of probe_overhead's uprobe section: a hot function called in
 * a tight loop. Built -O0 -fno-inline so that every call is a real call a
 * uprobe sees. For each line "N" on stdin it calls andon_bench_hot() N times
 * and answers "WALL_NS CPU_NS" (monotonic clock and this process's CPU time
 * over the N calls); it exits at end of input. It inherits its CPU pinning
 * from the benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) long andon_bench_hot(long x) { return x + 1; }

static long long ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
  char line[64];
  volatile long sink = 0;
  while (fgets(line, sizeof(line), stdin)) {
    long n = atol(line);
    long long wall0 = ns(CLOCK_MONOTONIC), cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++) sink += andon_bench_hot(i);
    long long cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID), wall1 = ns(CLOCK_MONOTONIC);
    printf("%lld %lld\n", wall1 - wall0, cpu1 - cpu0);
    fflush(stdout);
  }
  return 0;
}
