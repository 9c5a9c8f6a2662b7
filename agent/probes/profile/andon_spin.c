/* A busy child for profile_probe_bpf_test: spins forever in one function
 * with a name no other code has, called from another such function, built
 * with frame pointers so that the unwinder can get from one to the other. */
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) void andon_profile_spin_7f3a(volatile uint64_t* x) {
  for (uint32_t i = 0; i < 10000000; ++i) *x += 1;
}

__attribute__((noinline)) void andon_profile_outer_7f3a(volatile uint64_t* x) {
  for (;;) andon_profile_spin_7f3a(x);
}

/* With argument "syscalls": spends its time in the kernel instead. */
__attribute__((noinline)) void andon_profile_syscalls_7f3a(void) {
  for (;;) syscall(SYS_getppid);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "syscalls") == 0) andon_profile_syscalls_7f3a();
  volatile uint64_t x = 0;
  andon_profile_outer_7f3a(&x);
  return (int)x;
}
