#pragma once

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace andon::agent::testing {

// A loop device over a sparse file in /tmp, detached and deleted on
// destruction: a disk no other process writes to, for tests of block I/O.
// Tests running at the same time may race for the same free device; Create()
// then takes the next one.
class LoopDevice {
 public:
  static std::unique_ptr<LoopDevice> Create(size_t size, std::string* error) {
    auto dev = std::unique_ptr<LoopDevice>(new LoopDevice());
    char path[] = "/tmp/andon_loop_XXXXXX";
    dev->backing_fd_ = ::mkstemp(path);
    if (dev->backing_fd_ < 0) return Fail(error, "mkstemp");
    dev->backing_path_ = path;
    if (::ftruncate(dev->backing_fd_, static_cast<off_t>(size)) != 0) {
      return Fail(error, "ftruncate");
    }
    // Another test may take the free device between the two calls: retry.
    for (int attempt = 0; attempt < 10 && !dev->configured_; ++attempt) {
      int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
      if (ctl < 0) return Fail(error, "open /dev/loop-control");
      int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
      ::close(ctl);
      if (n < 0) return Fail(error, "LOOP_CTL_GET_FREE");
      dev->name_ = absl::StrCat("loop", n);
      if (dev->fd_ >= 0) ::close(dev->fd_);
      dev->fd_ = ::open(("/dev/" + dev->name_).c_str(), O_RDWR | O_CLOEXEC);
      if (dev->fd_ < 0) return Fail(error, "open /dev/" + dev->name_);
      loop_config config = {};
      config.fd = static_cast<uint32_t>(dev->backing_fd_);
      config.block_size = 4096;
      if (::ioctl(dev->fd_, LOOP_CONFIGURE, &config) == 0) {
        dev->configured_ = true;
      } else if (errno != EBUSY) {
        return Fail(error, "LOOP_CONFIGURE /dev/" + dev->name_);
      }
    }
    if (!dev->configured_) return Fail(error, "LOOP_CONFIGURE (every free device was taken)");
    return dev;
  }

  ~LoopDevice() {
    if (configured_) ::ioctl(fd_, LOOP_CLR_FD, 0);
    if (fd_ >= 0) ::close(fd_);
    if (backing_fd_ >= 0) ::close(backing_fd_);
    if (!backing_path_.empty()) ::unlink(backing_path_.c_str());
  }

  const std::string& name() const { return name_; }
  std::string path() const { return "/dev/" + name_; }

 private:
  LoopDevice() = default;
  static std::unique_ptr<LoopDevice> Fail(std::string* error, const std::string& what) {
    *error = absl::StrCat(what, ": ", std::strerror(errno));
    return nullptr;
  }

  std::string name_;
  std::string backing_path_;
  int backing_fd_ = -1;
  int fd_ = -1;
  bool configured_ = false;
};

}  // namespace andon::agent::testing
