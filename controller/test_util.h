#pragma once

// Helpers shared by the controller's tests.

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "andon/v1/agent.pb.h"
#include "gtest/gtest.h"

namespace andon::controller {

// A fresh empty directory under the test temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/andon_ctl_XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline v1::HostInfo MakeHostInfo(const std::string& host_id,
                                 std::map<std::string, std::string> labels = {}) {
  v1::HostInfo info;
  info.set_host_id(host_id);
  info.set_hostname(host_id);
  for (const auto& [k, v] : labels) (*info.mutable_labels())[k] = v;
  return info;
}

}  // namespace andon::controller
