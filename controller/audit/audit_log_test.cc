#include "controller/audit/audit_log.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "andon/v1/fleet.pb.h"
#include "andon/v1/probes.pb.h"
#include "common/metric_catalog.h"
#include "controller/probes/probe_configs.h"
#include "controller/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Closes the store and opens it again, as a controller restart does.
  void Reopen(AuditLogOptions options = {}) {
    log_.reset();
    store_.reset();
    auto store = OpenRocksDbStore(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto log = AuditLog::Open(store_.get(), &clock_, options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  void Append(const std::string& action, const std::string& object) {
    ASSERT_TRUE(log_->Append("ipv4:127.0.0.1:5000", action, object, nullptr, nullptr).ok());
  }

  v1::ListAuditResponse List(uint32_t limit = 0, const std::string& object = "") {
    v1::ListAuditRequest request;
    request.set_limit(limit);
    request.set_object(object);
    auto listed = log_->List(request);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : v1::ListAuditResponse();
  }

  static std::vector<uint64_t> Sequences(const v1::ListAuditResponse& r) {
    std::vector<uint64_t> out;
    for (const v1::AuditEntry& e : r.entries()) out.push_back(e.sequence());
    return out;
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, KeepsWhoWhatWhenBeforeAndAfter) {
  v1::ProbeConfig before, after;
  before.set_name("io");
  before.set_version(3);
  after.set_name("io");
  after.set_version(4);
  after.set_selector_text("role=db");
  ASSERT_TRUE(log_->Append("ipv4:127.0.0.1:54321", kAuditProbesUpdate, "io", &before, &after).ok());

  v1::ListAuditResponse r = List();
  ASSERT_EQ(r.entries_size(), 1);
  const v1::AuditEntry& e = r.entries(0);
  EXPECT_EQ(e.sequence(), 1u);
  EXPECT_EQ(e.who(), "ipv4:127.0.0.1:54321");
  EXPECT_EQ(e.action(), "probes.update");
  EXPECT_EQ(e.object(), "io");
  EXPECT_EQ(e.time().seconds(), 1700000000);
  EXPECT_EQ(e.before(), R"({"name":"io","version":"3"})");
  EXPECT_EQ(e.after(), R"({"name":"io","selectorText":"role=db","version":"4"})");
}

TEST_F(AuditLogTest, EmptyWithoutBeforeOrAfter) {
  v1::ProbeConfig after;
  after.set_name("io");
  ASSERT_TRUE(log_->Append("controller", kAuditProbesEnable, "io", nullptr, &after).ok());
  v1::ListAuditResponse r = List();
  ASSERT_EQ(r.entries_size(), 1);
  EXPECT_THAT(r.entries(0).before(), IsEmpty());
  EXPECT_EQ(r.entries(0).after(), R"({"name":"io"})");
}

TEST_F(AuditLogTest, MapsAreWrittenInKeyOrder) {
  v1::Host host;
  host.mutable_info()->set_host_id("h");
  for (const char* k : {"zone", "rack", "role", "az", "tier", "b", "y"}) {
    (*host.mutable_info()->mutable_labels())[k] = "v";
  }
  ASSERT_TRUE(log_->Append("controller", kAuditLabelsSet, "h", nullptr, &host).ok());
  EXPECT_EQ(List().entries(0).after(),
            R"({"info":{"hostId":"h","labels":{"az":"v","b":"v","rack":"v","role":"v",)"
            R"("tier":"v","y":"v","zone":"v"}}})");
}

TEST_F(AuditLogTest, ListsNewestFirstWithLimitAndObject) {
  EXPECT_THAT(List().entries(), IsEmpty());
  Append("probes.enable", "io");
  clock_.Advance(absl::Seconds(1));
  Append("labels.set", "web-1");
  clock_.Advance(absl::Seconds(1));
  Append("probes.disable", "io");
  Append("probes.enable", "cpu");

  v1::ListAuditResponse all = List();
  EXPECT_THAT(Sequences(all), ElementsAre(4, 3, 2, 1));
  EXPECT_EQ(all.entries(0).object(), "cpu");
  EXPECT_EQ(all.entries(3).time().seconds(), 1700000000);
  EXPECT_EQ(all.entries(1).time().seconds(), 1700000002);
  EXPECT_THAT(Sequences(List(2)), ElementsAre(4, 3));
  EXPECT_THAT(Sequences(List(0, "io")), ElementsAre(3, 1));
  EXPECT_THAT(Sequences(List(1, "io")), ElementsAre(3));
  EXPECT_THAT(List(0, "nothing").entries(), IsEmpty());
  EXPECT_EQ(log_->size(), 4u);
}

TEST_F(AuditLogTest, DefaultLimitIsAHundred) {
  for (int i = 0; i < 120; ++i) Append("labels.set", "h");
  v1::ListAuditResponse r = List();
  ASSERT_EQ(r.entries_size(), 100);
  EXPECT_EQ(r.entries(0).sequence(), 120u);
  EXPECT_EQ(r.entries(99).sequence(), 21u);
  EXPECT_EQ(List(500).entries_size(), 120);
}

TEST_F(AuditLogTest, KeepsOnlyTheNewestEntries) {
  Reopen({.max_entries = 3});
  for (int i = 0; i < 5; ++i) Append("labels.set", "h");
  EXPECT_EQ(log_->size(), 3u);
  EXPECT_THAT(Sequences(List()), ElementsAre(5, 4, 3));
  int stored = 0;
  ASSERT_TRUE(store_
                  ->Scan("audit/",
                         [&](absl::string_view, absl::string_view) {
                           ++stored;
                           return absl::OkStatus();
                         })
                  .ok());
  EXPECT_EQ(stored, 3);  // the older ones are gone from the store, not only hidden

  // The bound holds across a restart, and a smaller one trims on the next append.
  Reopen({.max_entries = 2});
  EXPECT_EQ(log_->size(), 3u);
  Append("labels.set", "h");
  EXPECT_THAT(Sequences(List()), ElementsAre(6, 5));
}

TEST_F(AuditLogTest, SurvivesReopenAndContinuesTheSequence) {
  Append("probes.enable", "io");
  Append("probes.disable", "io");
  Reopen();
  v1::ListAuditResponse r = List();
  EXPECT_THAT(Sequences(r), ElementsAre(2, 1));
  ASSERT_EQ(r.entries_size(), 2);
  EXPECT_EQ(r.entries(0).action(), "probes.disable");
  EXPECT_EQ(r.entries(0).who(), "ipv4:127.0.0.1:5000");

  Append("probes.enable", "cpu");  // never reuses a sequence
  EXPECT_THAT(Sequences(List()), ElementsAre(3, 2, 1));
  Reopen();
  EXPECT_THAT(Sequences(List()), ElementsAre(3, 2, 1));
}

TEST(AuditLogCrashTest, EntriesSurviveAControllerThatDiesWithoutClosing) {
  TempDir dir;
  FakeClock clock(absl::FromUnixSeconds(1700000000));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // As a controller killed with SIGKILL: no destructor, no close, no flush.
    auto store = OpenRocksDbStore(dir.path());
    if (!store.ok()) _exit(2);
    auto log = AuditLog::Open(store->get(), &clock);
    if (!log.ok()) _exit(3);
    v1::ProbeConfig io;
    io.set_name("io");
    if (!(*log)->Append("ipv4:127.0.0.1:1", kAuditProbesEnable, "io", nullptr, &io).ok()) _exit(4);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto store = OpenRocksDbStore(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  auto log = AuditLog::Open(store->get(), &clock);
  ASSERT_TRUE(log.ok()) << log.status();
  auto listed = (*log)->List(v1::ListAuditRequest());
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->entries_size(), 1);
  EXPECT_EQ(listed->entries(0).action(), "probes.enable");
  EXPECT_EQ(listed->entries(0).after(), R"({"name":"io"})");
}

TEST_F(AuditLogTest, IgnoresNeighbouringKeys) {
  // Keys sorting just before and after "audit/..." are not entries.
  ASSERT_TRUE(store_->Put("audis", "x").ok());
  ASSERT_TRUE(store_->Put("audit0", "x").ok());
  ASSERT_TRUE(store_->Put("b/1", "x").ok());
  Reopen();
  Append("labels.set", "h");
  Append("labels.set", "h");
  Reopen();
  EXPECT_THAT(Sequences(List()), ElementsAre(2, 1));
  EXPECT_EQ(log_->size(), 2u);
}

TEST(RocksDbStoreTest, ScanReverseVisitsThePrefixLastKeyFirst) {
  TempDir dir;
  auto store = OpenRocksDbStore(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  for (const char* key : {"a", "p/1", "p/2", "p/3", "p0", "q", "\xff\xff", "p\xff", "p\xff\x01"}) {
    ASSERT_TRUE((*store)->Put(key, "v").ok());
  }
  auto reversed = [&](absl::string_view prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE((*store)
                    ->ScanReverse(prefix,
                                  [&](absl::string_view key, absl::string_view) {
                                    keys.emplace_back(key);
                                    return absl::OkStatus();
                                  })
                    .ok());
    return keys;
  };
  EXPECT_THAT(reversed("p/"), ElementsAre("p/3", "p/2", "p/1"));
  EXPECT_THAT(reversed("p\xff"), ElementsAre("p\xff\x01", "p\xff"));
  EXPECT_THAT(reversed("\xff"), ElementsAre("\xff\xff"));
  EXPECT_THAT(reversed("z"), IsEmpty());
}

// The hooks in ProbeConfigs: applied changes are recorded, rejected ones not.
class ProbeConfigsAuditTest : public AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    auto configs = ProbeConfigs::Open(store_.get(), &clock_, &catalog_, log_.get());
    ASSERT_TRUE(configs.ok()) << configs.status();
    configs_ = std::move(*configs);
  }

  MetricCatalog catalog_;
  std::unique_ptr<ProbeConfigs> configs_;
};

TEST_F(ProbeConfigsAuditTest, RecordsEnableUpdateDisableAndExpiry) {
  v1::ListAuditResponse r = List();
  ASSERT_EQ(r.entries_size(), 1);  // a new cluster's `default`
  EXPECT_EQ(r.entries(0).who(), "controller");
  EXPECT_EQ(r.entries(0).action(), "probes.enable");
  EXPECT_EQ(r.entries(0).object(), "default");

  v1::PutProbeConfigRequest put;
  put.set_name("io");
  put.add_probes()->set_probe("biolatency");
  ASSERT_TRUE(configs_->Put(put, "ipv4:127.0.0.1:1").ok());
  put.set_replace(true);
  put.set_selector("role=db");
  put.mutable_ttl()->set_seconds(60);
  ASSERT_TRUE(configs_->Put(put, "ipv4:127.0.0.1:2").ok());
  ASSERT_TRUE(configs_->Delete("default", 0, "ipv4:127.0.0.1:3").ok());
  clock_.Advance(absl::Seconds(61));
  EXPECT_THAT(configs_->ExpireDue(), ElementsAre("io"));

  r = List(4);
  ASSERT_EQ(r.entries_size(), 4);
  EXPECT_EQ(r.entries(0).action(), "probes.expire");
  EXPECT_EQ(r.entries(0).who(), "controller");
  EXPECT_THAT(r.entries(0).before(), HasSubstr(R"("selectorText":"role=db")"));
  EXPECT_THAT(r.entries(0).after(), IsEmpty());
  EXPECT_EQ(r.entries(1).action(), "probes.disable");
  EXPECT_EQ(r.entries(1).object(), "default");
  EXPECT_EQ(r.entries(1).who(), "ipv4:127.0.0.1:3");
  EXPECT_THAT(r.entries(1).after(), IsEmpty());
  EXPECT_EQ(r.entries(2).action(), "probes.update");
  EXPECT_EQ(r.entries(2).who(), "ipv4:127.0.0.1:2");
  EXPECT_THAT(r.entries(2).before(), Not(HasSubstr("role=db")));
  EXPECT_THAT(r.entries(2).after(), HasSubstr(R"("selectorText":"role=db")"));
  EXPECT_EQ(r.entries(3).action(), "probes.enable");
  EXPECT_THAT(r.entries(3).before(), IsEmpty());
  EXPECT_THAT(r.entries(3).after(), HasSubstr(R"("probe":"biolatency")"));
}

TEST_F(ProbeConfigsAuditTest, RejectedChangesAreNotRecorded) {
  const size_t before = log_->size();
  v1::PutProbeConfigRequest put;
  put.set_name("io");
  put.add_probes()->set_probe("no_such_probe");
  EXPECT_FALSE(configs_->Put(put, "ipv4:127.0.0.1:1").ok());
  put.mutable_probes(0)->set_probe("biolatency");
  put.set_replace(true);  // nothing to replace
  EXPECT_FALSE(configs_->Put(put, "ipv4:127.0.0.1:1").ok());
  EXPECT_FALSE(configs_->Delete("missing", 0, "ipv4:127.0.0.1:1").ok());
  EXPECT_FALSE(configs_->Delete("default", 999, "ipv4:127.0.0.1:1").ok());
  EXPECT_EQ(log_->size(), before);
}

}  // namespace
}  // namespace andon::controller
