#include "agent/syscall_names.h"

#include <sys/syscall.h>

#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(SyscallNameTest, KnownNumbersHaveKernelNames) {
  EXPECT_EQ(SyscallName(SYS_getppid), "getppid");
  EXPECT_EQ(SyscallName(SYS_read), "read");
  EXPECT_EQ(SyscallName(SYS_execve), "execve");
}

TEST(SyscallNameTest, UnknownNumbersAreNumbered) {
  EXPECT_EQ(SyscallName(1000), "sys_1000");
  EXPECT_EQ(SyscallName(0xffffffffu), "sys_invalid");
  EXPECT_EQ(SyscallName(kSyscallTableSize), "sys_invalid");
}

}  // namespace
}  // namespace andon::agent
