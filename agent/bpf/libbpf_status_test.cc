#include "agent/bpf/libbpf_status.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

TEST(LibbpfStatusTest, PermissionErrorsSayWhatFailed) {
  absl::Status s = LibbpfStatus(-EPERM, "loading into the kernel");
  EXPECT_TRUE(absl::IsPermissionDenied(s));
  EXPECT_EQ(s.message(), "loading into the kernel: Operation not permitted");
  EXPECT_TRUE(absl::IsPermissionDenied(LibbpfStatus(EACCES, "x")));
}

TEST(LibbpfStatusTest, OtherErrnosMapToCanonicalCodes) {
  EXPECT_TRUE(absl::IsNotFound(LibbpfStatus(-ENOENT, "attaching")));
  EXPECT_TRUE(absl::IsResourceExhausted(LibbpfStatus(-E2BIG, "x")));
  EXPECT_TRUE(absl::IsInvalidArgument(LibbpfStatus(-EINVAL, "x")));
  EXPECT_TRUE(absl::IsUnimplemented(LibbpfStatus(-EOPNOTSUPP, "x")));
  EXPECT_TRUE(absl::IsInternal(LibbpfStatus(-EIO, "x")));
}

TEST(LibbpfStatusTest, KernelEnotsuppIsExplained) {
  // 524 is the kernel's internal ENOTSUPP; strerror() calls it "Unknown error 524".
  absl::Status s = LibbpfStatus(-524, "evicting an idle key");
  EXPECT_TRUE(absl::IsUnimplemented(s)) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), "evicting an idle key: not supported by this kernel"))
      << s;
}

TEST(LibbpfStatusTest, LibbpfsWarningExplainsTheFailureOfTheThreadThatGotIt) {
  InstallLibbpfLogger();
  const std::string path = "/nonexistent/andon-libbpf-status-test.bpf.o";
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  ASSERT_TRUE(obj == nullptr || libbpf_get_error(obj) != 0) << "opened a file that is not there";
  absl::Status here = LibbpfStatus(-ENOENT, "opening");
  EXPECT_THAT(std::string(here.message()), ::testing::HasSubstr(path)) << here;
  std::string there;
  std::thread([&] { there = std::string(LibbpfStatus(-ENOENT, "opening").message()); }).join();
  EXPECT_EQ(there, "opening: No such file or directory") << "another thread's warning attached";
}

}  // namespace
}  // namespace andon::agent
