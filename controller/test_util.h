#pragma once

// Helpers shared by the controller's tests.

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "andon/v1/agent.pb.h"
#include "common/clock.h"
#include "controller/kv_store.h"
#include "controller/registry.h"
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

// What most controller tests start from: a RocksDB store in a fresh
// directory, a fake clock, and a Registry on them; Reopen() is a restart.
class RegistryTestBase : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    registry_.reset();
    store_.reset();
    auto store = OpenRocksDbStore(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto registry = Registry::Open(store_.get(), &clock_);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<Registry> registry_;
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
