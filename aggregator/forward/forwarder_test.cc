#include "aggregator/forward/forwarder.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "aggregator/batch_validator.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/ingest_service.h"
#include "aggregator/storage/rocksdb_series_store.h"
#include "aggregator/test_batches.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/series_key.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace andon::aggregator {
namespace {

using testing::AllSeries;
using testing::Batch;
using testing::kSecondNs;
using testing::kT0Ns;
using testing::Syscalls;

std::string TempDir(const std::string& name) {
  std::string tmpl = ::testing::TempDir() + "/" + name + "-XXXXXX";
  return mkdtemp(tmpl.data());
}

// A real parent aggregator: store, validator and Ingest service on a gRPC port.
struct Parent {
  Parent()
      : dir(TempDir("parent")),
        store(*RocksDbSeriesStore::Open(dir)),
        validator(RealClock::Get(), &catalog),
        metrics(IngestMetrics::Create(registry)),
        ingest(store.get(), &validator, &metrics) {
    int port = 0;
    server = *StartGrpcServer("127.0.0.1:0", {&ingest}, &port);
    ref.set_id("root");
    ref.set_address("127.0.0.1:" + std::to_string(port));
  }
  ~Parent() {
    server->Shutdown();
    ingest.StopServing();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  // Every stored syscalls series as "key@second=count", summed per point.
  std::map<std::string, uint64_t> Stored() const {
    std::map<std::string, uint64_t> out;
    for (const SeriesRef& s : AllSeries(*store, "syscalls")) {
      auto points = store->ReadPoints(s.id, 0, INT64_MAX);
      for (const StoredPoint& p : *points) {
        out[SeriesKeyToString(s.key) + "@" +
            std::to_string((p.window_start_ns - kT0Ns) / kSecondNs)] += p.value.counter();
      }
    }
    return out;
  }

  std::string dir;
  std::unique_ptr<RocksDbSeriesStore> store;
  MetricCatalog catalog;
  BatchValidator validator;
  prometheus::Registry registry;
  IngestMetrics metrics;
  IngestService ingest;
  std::unique_ptr<grpc::Server> server;
  v1::AggregatorRef ref;
};

// Waits up to 20 s for `done`.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

class ForwarderTest : public ::testing::Test {
 protected:
  ForwarderTest()
      : leaf_dir_(TempDir("leaf")),
        store_(*RocksDbSeriesStore::Open(leaf_dir_)),
        clock_(absl::FromUnixNanos(kT0Ns + kSecondNs / 2)) {}
  ~ForwarderTest() override {
    forwarder_.reset();
    outbox_.reset();
    store_.reset();
    std::filesystem::remove_all(leaf_dir_);
  }

  // A forwarder over the leaf's store and its outbox (reopened), recovered.
  void StartForwarder() {
    forwarder_.reset();
    outbox_.reset();
    outbox_ = *Outbox::Open(leaf_dir_ + "/forward", 100);
    forwarder_ = std::make_unique<Forwarder>(
        ForwarderOptions{.id = "leaf-1",
                         .admission_delay = absl::Seconds(3),
                         .tick = absl::Milliseconds(10),
                         .backoff_initial = absl::Milliseconds(10),
                         .backoff_max = absl::Milliseconds(50)},
        outbox_.get(), store_.get(), &catalog_, &clock_, ForwardMetrics::Create(registry_));
    ASSERT_TRUE(forwarder_->Recover().ok());
  }

  // What ingest does: store the batch, then tell the forwarder.
  void Ingest(const v1::IngestBatch& batch, bool tell_forwarder = true) {
    auto applied = store_->ApplyBatch(batch);
    ASSERT_TRUE(applied.ok()) << applied.status();
    if (tell_forwarder) forwarder_->OnApplied(batch);
  }

  std::string leaf_dir_;
  std::unique_ptr<RocksDbSeriesStore> store_;
  MetricCatalog catalog_;
  FakeClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Forwarder> forwarder_;
};

const char kSeries[] = R"(syscalls{comm="nginx",syscall="read"}@0)";

TEST_F(ForwarderTest, HostsOfOneWindowReachTheParentAsOneSeries) {
  Parent parent;
  StartForwarder();
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  Ingest(Batch("host-a", 1, {Syscalls("host-a", "nginx", "read", kT0Ns, 3)}));
  Ingest(Batch("host-b", 1, {Syscalls("host-b", "nginx", "read", kT0Ns, 4)}));
  clock_.Advance(absl::Seconds(5));  // past the window's end and the admission delay
  ASSERT_TRUE(Eventually([&] { return outbox_->size() == 0 && !parent.Stored().empty(); }));
  EXPECT_EQ(parent.Stored(), (std::map<std::string, uint64_t>{{kSeries, 7}}));
}

TEST_F(ForwarderTest, WindowsOpenAtACrashAreRebuiltAndSentOnce) {
  Parent parent;
  StartForwarder();
  Ingest(Batch("host-a", 1, {Syscalls("host-a", "nginx", "read", kT0Ns, 3)}));
  // Stored just before the process died, before the forwarder heard of it.
  Ingest(Batch("host-b", 1, {Syscalls("host-b", "nginx", "read", kT0Ns, 4)}),
         /*tell_forwarder=*/false);
  StartForwarder();  // the restart: nothing had been closed
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return outbox_->size() == 0 && !parent.Stored().empty(); }));
  EXPECT_EQ(parent.Stored(), (std::map<std::string, uint64_t>{{kSeries, 7}}));

  // Restarting after the window was sent does not send it again; a later
  // window still goes up.
  StartForwarder();
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  Ingest(Batch("host-a", 2, {Syscalls("host-a", "nginx", "read", kT0Ns + 5 * kSecondNs, 1)}));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return parent.Stored().size() == 2; }));
  EXPECT_EQ(parent.Stored()[kSeries], 7u);
}

TEST_F(ForwarderTest, LateDataAmendsTheParentsWindowWithoutCountingItTwice) {
  Parent parent;
  StartForwarder();
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  Ingest(Batch("host-a", 1, {Syscalls("host-a", "nginx", "read", kT0Ns, 3)}));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return parent.Stored()[kSeries] == 3; }));
  Ingest(Batch("host-b", 1, {Syscalls("host-b", "nginx", "read", kT0Ns, 4)}));
  ASSERT_TRUE(Eventually([&] { return parent.Stored()[kSeries] == 7 && outbox_->size() == 0; }));
  EXPECT_EQ(parent.Stored(), (std::map<std::string, uint64_t>{{kSeries, 7}}));
}

TEST_F(ForwarderTest, LateBatchesOfManyHostsGoUpAsOneAmendmentATick) {
  Parent parent;
  StartForwarder();  // not started: the test closes windows itself
  Ingest(Batch("host-0", 1, {Syscalls("host-0", "nginx", "read", kT0Ns, 1)}));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(forwarder_->CloseDue().ok());
  ASSERT_EQ(outbox_->size(), 1u);
  // Every other host falls behind: each batch is late.
  constexpr int kLateHosts = 200;  // twice the outbox's bound of batches
  for (int h = 1; h <= kLateHosts; ++h) {
    const std::string host = "host-" + std::to_string(h);
    Ingest(Batch(host, 1, {Syscalls(host, "nginx", "read", kT0Ns, 2)}));
  }
  EXPECT_EQ(outbox_->size(), 1u);  // kept, not yet batches
  ASSERT_TRUE(forwarder_->CloseDue().ok());
  EXPECT_EQ(outbox_->size(), 2u);  // one amendment for all of them
  EXPECT_EQ(outbox_->dropped(), 0u);
  EXPECT_EQ(outbox_->last_late(), 0u);
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  ASSERT_TRUE(Eventually([&] { return outbox_->size() == 0; }));
  EXPECT_EQ(parent.Stored(), (std::map<std::string, uint64_t>{{kSeries, 1 + 2 * kLateHosts}}));
}

TEST_F(ForwarderTest, LatePointsKeptAtACrashGoUpOnce) {
  Parent parent;
  StartForwarder();
  Ingest(Batch("host-a", 1, {Syscalls("host-a", "nginx", "read", kT0Ns, 3)}));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(forwarder_->CloseDue().ok());
  Ingest(Batch("host-b", 1, {Syscalls("host-b", "nginx", "read", kT0Ns, 4)}));
  Ingest(Batch("host-c", 1, {Syscalls("host-c", "nginx", "read", kT0Ns, 5)}));
  ASSERT_EQ(outbox_->last_late(), 2u);
  StartForwarder();  // the crash: the late points were kept, never folded
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  ASSERT_TRUE(Eventually([&] { return parent.Stored()[kSeries] == 12 && outbox_->size() == 0; }));
  EXPECT_EQ(outbox_->last_late(), 0u);
  // Another restart sends nothing again.
  StartForwarder();
  forwarder_->SetParent(parent.ref);
  forwarder_->Start();
  Ingest(Batch("host-a", 2, {Syscalls("host-a", "nginx", "read", kT0Ns + 5 * kSecondNs, 1)}));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return parent.Stored().size() == 2 && outbox_->size() == 0; }));
  EXPECT_EQ(parent.Stored()[kSeries], 12u);
}

TEST_F(ForwarderTest, KeepsWindowsWhileTheParentIsAwayAndDeliversThemLater) {
  StartForwarder();
  forwarder_->SetParent(v1::AggregatorRef());  // not known yet
  forwarder_->Start();
  Ingest(Batch("host-a", 1, {Syscalls("host-a", "nginx", "read", kT0Ns, 3)}));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Eventually([&] { return outbox_->size() == 1; }));
  Parent parent;
  forwarder_->SetParent(parent.ref);
  ASSERT_TRUE(Eventually([&] { return outbox_->size() == 0; }));
  EXPECT_EQ(parent.Stored(), (std::map<std::string, uint64_t>{{kSeries, 3}}));
}

}  // namespace
}  // namespace andon::aggregator
