#include "agent/ingest_client.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <set>

#include "agent/test_grpc_server.h"
#include "andon/v1/ingest.grpc.pb.h"
#include "common/series_dict.h"
#include "gtest/gtest.h"

namespace andon::agent {
namespace {

using testing::Eventually;
using testing::TestServer;

// Records every batch streamed; acks each with the highest sequence seen
// (LastSequence answers the same). Ends the stream with INVALID_ARGUMENT on
// `reject_sequence`, as a real aggregator does on a batch it cannot accept.
class FakeIngest final : public v1::Ingest::CallbackService {
 public:
  uint64_t reject_sequence = 0;
  bool ack = true;  // false: store but never acknowledge (acks lost on the way)
  // Says in its acks that it reads numbered series, and reads them (with
  // the real decoder), counting what came numbered on the wire.
  bool numbered = false;
  std::atomic<int> definitions{0};
  std::atomic<int> numbered_points{0};

  grpc::ServerBidiReactor<v1::IngestBatch, v1::IngestAck>* Stream(
      grpc::CallbackServerContext*) override {
    class Reactor final : public grpc::ServerBidiReactor<v1::IngestBatch, v1::IngestAck> {
     public:
      explicit Reactor(FakeIngest* svc) : svc_(svc) { StartRead(&batch_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        if (batch_.sequence() == svc_->reject_sequence) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad batch"));
          return;
        }
        {
          // Released before the next read reuses batch_.
          SeriesDictDecoder::Lent lent(dict_, batch_);
          if (svc_->numbered) {
            svc_->definitions += batch_.series_defs_size();
            for (const v1::Point& p : batch_.points()) svc_->numbered_points += p.series_ref() != 0;
            if (absl::Status s = dict_.Decode(batch_); !s.ok()) {
              Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
              return;
            }
            ack_.set_series_refs(true);
          }
          svc_->Record(batch_);
        }
        if (!svc_->ack) {
          StartRead(&batch_);
          return;
        }
        ack_.set_last_sequence(svc_->max_sequence());
        StartWrite(&ack_);
      }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        StartRead(&batch_);
      }
      void OnDone() override { delete this; }

     private:
      FakeIngest* svc_;
      v1::IngestBatch batch_;
      v1::IngestAck ack_;
      SeriesDictDecoder dict_;
    };
    return new Reactor(this);
  }

  grpc::ServerUnaryReactor* LastSequence(grpc::CallbackServerContext* context,
                                         const v1::LastSequenceRequest*,
                                         v1::IngestAck* response) override {
    last_sequence_asked.fetch_add(1);
    response->set_last_sequence(max_sequence());
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  std::atomic<int> last_sequence_asked{0};

  void Record(const v1::IngestBatch& b) {
    absl::MutexLock lock(&mu_);
    batches_.push_back(b);
  }
  std::vector<v1::IngestBatch> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  uint64_t max_sequence() {
    absl::MutexLock lock(&mu_);
    uint64_t m = 0;
    for (const auto& b : batches_) m = std::max(m, b.sequence());
    return m;
  }
  std::set<uint64_t> sequences() {
    std::set<uint64_t> out;
    for (const auto& b : batches()) out.insert(b.sequence());
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::IngestBatch> batches_;
};

// An aggregator that accepts streams but never reads from them nor ends them
// (a wedged process): client Writes block once flow control fills up, and
// Finish never returns. It lets go of a stream only when it is cancelled.
class WedgedIngest final : public v1::Ingest::CallbackService {
 public:
  grpc::ServerBidiReactor<v1::IngestBatch, v1::IngestAck>* Stream(
      grpc::CallbackServerContext*) override {
    class Reactor final : public grpc::ServerBidiReactor<v1::IngestBatch, v1::IngestAck> {
     public:
      explicit Reactor(std::atomic<int>* cancelled) : cancelled_(cancelled) {}
      void OnCancel() override {
        cancelled_->fetch_add(1);
        Finish(grpc::Status::CANCELLED);
      }
      void OnDone() override { delete this; }

     private:
      std::atomic<int>* cancelled_;
    };
    streams.fetch_add(1);
    return new Reactor(&cancelled);
  }

  std::atomic<int> streams{0};
  std::atomic<int> cancelled{0};
};

std::vector<v1::Point> Points(int n) {
  std::vector<v1::Point> out(n);
  for (auto& p : out) {
    p.mutable_series()->set_metric("execs");
    p.mutable_value()->set_counter(1);
  }
  return out;
}

class IngestClientTest : public ::testing::Test {
 protected:
  prometheus::Registry registry_;
  AgentMetrics metrics_{registry_};
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

TEST_F(IngestClientTest, SendsInOrderWithIncreasingSequencesFromBase) {
  FakeIngest svc;
  TestServer server(&svc);
  ASSERT_TRUE(server.ok());
  IngestClient client({.sender_id = "h1", .sequence_base = 1000}, metrics_, &clock_);
  client.Start();
  client.SetTarget(server.address());
  for (int i = 0; i < 5; ++i) client.Enqueue(Points(2));
  client.Enqueue({});  // empty windows make no batch
  ASSERT_TRUE(Eventually([&] { return svc.batches().size() >= 5; }));
  client.Stop();
  std::vector<v1::IngestBatch> got = svc.batches();
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].sequence(), 1001 + i);
    EXPECT_EQ(got[i].sender_id(), "h1");
    EXPECT_EQ(got[i].sender_kind(), v1::AGENT);
    EXPECT_EQ(got[i].points_size(), 2);
  }
  v1::AgentStats stats = client.stats();
  EXPECT_EQ(stats.batches_sent(), 5u);
  EXPECT_EQ(stats.points_sent(), 10u);
  EXPECT_GT(stats.bytes_sent(), 0u);
}

TEST_F(IngestClientTest, OnceTheAggregatorSaysSoEachSeriesCrossesTheStreamOnce) {
  FakeIngest svc;
  svc.numbered = true;
  TestServer server(&svc);
  ASSERT_TRUE(server.ok());
  IngestClient client({.sender_id = "h1"}, metrics_, &clock_);
  client.Start();
  client.SetTarget(server.address());
  auto window = [] {
    std::vector<v1::Point> points = Points(3);
    for (int i = 0; i < 3; ++i) {
      v1::Label* l = points[i].mutable_series()->add_labels();
      l->set_name("comm");
      l->set_value(std::string(1, static_cast<char>('a' + i)));
    }
    return points;
  };
  // Whole until the first ack says the aggregator reads numbered series.
  client.Enqueue(window());
  ASSERT_TRUE(
      Eventually([&] { return svc.batches().size() == 1 && client.unacknowledged() == 0; }));
  EXPECT_EQ(svc.numbered_points, 0);
  const uint64_t whole_bytes = client.stats().bytes_sent();
  for (int i = 0; i < 3; ++i) client.Enqueue(window());
  ASSERT_TRUE(Eventually([&] { return svc.batches().size() == 4; }));
  client.Stop();
  // Each series defined once, with the second batch; every later point
  // numbered; every batch arrived whole once read.
  EXPECT_EQ(svc.definitions, 3);
  EXPECT_EQ(svc.numbered_points, 9);
  for (const v1::IngestBatch& b : svc.batches()) {
    ASSERT_EQ(b.points_size(), 3);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(b.points(i).series().metric(), "execs");
      EXPECT_EQ(b.points(i).series().labels(0).value(), std::string(1, static_cast<char>('a' + i)));
    }
  }
  // The agent counts the bytes it put on the wire: the three later batches
  // took fewer than three whole ones would.
  const uint64_t second_on = client.stats().bytes_sent() - whole_bytes;
  EXPECT_LT(second_on, 3 * whole_bytes);
}

TEST_F(IngestClientTest, SequencesKeepIncreasingAcrossRestarts) {
  IngestClient first({.sender_id = "h1"}, metrics_, &clock_);
  for (int i = 0; i < 100; ++i) first.Enqueue(Points(1));
  clock_.Advance(absl::Seconds(1));  // the agent restarts a second later
  IngestClient second({.sender_id = "h1"}, metrics_, &clock_);
  second.Enqueue(Points(1));
  EXPECT_GT(second.last_enqueued_sequence(), first.last_enqueued_sequence());
  EXPECT_EQ(first.last_enqueued_sequence(), 1700000000000ull * 1000 + 100);
}

TEST_F(IngestClientTest, FullQueueDropsOldestAndCounts) {
  IngestClient client({.sender_id = "h1", .max_queued_batches = 3, .sequence_base = 10}, metrics_,
                      &clock_);
  for (int i = 0; i < 5; ++i) client.Enqueue(Points(1));
  EXPECT_EQ(client.queued(), 3u);
  EXPECT_EQ(client.stats().batches_dropped(), 2u);
  // The newest survive: 13, 14, 15 are sent once a target appears.
  FakeIngest svc;
  TestServer server(&svc);
  client.Start();
  client.SetTarget(server.address());
  ASSERT_TRUE(Eventually([&] { return svc.batches().size() >= 3; }));
  EXPECT_EQ(svc.sequences(), (std::set<uint64_t>{13, 14, 15}));
}

TEST_F(IngestClientTest, ReconnectsAndDeliversEverythingAfterAnOutage) {
  auto svc = std::make_unique<FakeIngest>();
  auto server = std::make_unique<TestServer>(svc.get());
  const int port = server->port();
  IngestClient client({.sender_id = "h1",
                       .backoff_initial = absl::Milliseconds(20),
                       .backoff_max = absl::Milliseconds(100),
                       .sequence_base = 0},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(server->address());
  for (int i = 0; i < 3; ++i) client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return svc->batches().size() >= 3; }));
  std::set<uint64_t> seen = svc->sequences();

  server->Shutdown();  // aggregator goes away; batches pile up meanwhile
  for (int i = 0; i < 4; ++i) client.Enqueue(Points(1));
  // The sender noticed: its stream failed and it is reconnecting.
  ASSERT_TRUE(Eventually([&] { return metrics_.ingest_reconnects.Value() >= 1; }));
  auto svc2 = std::make_unique<FakeIngest>();
  TestServer restarted(svc2.get(), port);
  ASSERT_TRUE(restarted.ok());
  const uint64_t last = client.last_enqueued_sequence();
  ASSERT_TRUE(Eventually([&] { return svc2->sequences().count(last) == 1; }));
  for (uint64_t s : svc2->sequences()) seen.insert(s);
  // Every sequence arrived at least once (resends are deduped downstream).
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(*seen.rbegin() - *seen.begin(), 6u);
  EXPECT_GE(registry_.Collect().size(), 1u);
  client.Stop();
}

TEST_F(IngestClientTest, RepeatedAssignmentCutsBackoffShort) {
  int port = 0;
  {
    FakeIngest unused;
    TestServer gone(&unused);
    port = gone.port();
  }
  IngestClient client(
      {.sender_id = "h1", .backoff_initial = absl::Seconds(60), .backoff_max = absl::Seconds(60)},
      metrics_, &clock_);
  client.Start();
  client.SetTarget(absl::StrCat("127.0.0.1:", port));
  client.Enqueue(Points(1));
  // The first attempt failed; now it is in a long backoff.
  ASSERT_TRUE(Eventually([&] { return metrics_.ingest_reconnects.Value() >= 1; }));
  FakeIngest svc;
  TestServer back(&svc, port);
  ASSERT_TRUE(back.ok());
  client.SetTarget(back.address());  // the controller assigns it again
  EXPECT_TRUE(Eventually([&] { return svc.batches().size() == 1; }, absl::Seconds(5)));
  client.Stop();
}

TEST_F(IngestClientTest, SplitsLargeWindowsIntoSeveralBatches) {
  FakeIngest svc;
  TestServer server(&svc);
  IngestClient client({.sender_id = "h1", .max_points_per_batch = 3, .sequence_base = 10}, metrics_,
                      &clock_);
  client.Enqueue(Points(7));
  EXPECT_EQ(client.queued(), 3u);
  client.Start();
  client.SetTarget(server.address());
  ASSERT_TRUE(Eventually([&] { return svc.batches().size() == 3; }));
  std::vector<v1::IngestBatch> got = svc.batches();
  EXPECT_EQ(got[0].points_size(), 3);
  EXPECT_EQ(got[1].points_size(), 3);
  EXPECT_EQ(got[2].points_size(), 1);
  EXPECT_EQ(got[2].sequence(), 13u);
  client.Stop();
}

TEST_F(IngestClientTest, ARejectedBatchIsDroppedAndTheRestStillArrive) {
  FakeIngest svc;
  svc.reject_sequence = 102;
  TestServer server(&svc);
  IngestClient client({.sender_id = "h1",
                       .backoff_initial = absl::Milliseconds(10),
                       .backoff_max = absl::Milliseconds(50),
                       .sequence_base = 100},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(server.address());
  // A sync client stream learns that the server ended it only on its next
  // Write, so keep windows coming as the agent does.
  ASSERT_TRUE(Eventually([&] {
    client.Enqueue(Points(1));
    absl::SleepFor(absl::Milliseconds(20));
    return svc.sequences().count(104) == 1;
  }));
  std::set<uint64_t> got = svc.sequences();
  EXPECT_EQ(got.count(101), 1u);
  EXPECT_EQ(got.count(102), 0u);
  EXPECT_EQ(got.count(103), 1u);
  EXPECT_GE(metrics_.batches_rejected.Value(), 1);
  EXPECT_EQ(client.stats().batches_dropped(), 0u) << "the queue never overflowed";
  client.Stop();
}

TEST_F(IngestClientTest, SwitchesToANewAggregator) {
  FakeIngest a, b;
  TestServer server_a(&a), server_b(&b);
  IngestClient client({.sender_id = "h1"}, metrics_, &clock_);
  client.Start();
  client.SetTarget(server_a.address());
  client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return a.batches().size() == 1; }));
  client.SetTarget(server_b.address());
  client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return !b.batches().empty(); }));
  // The old stream closed cleanly and was acked, so nothing is resent to b.
  ASSERT_EQ(b.batches().size(), 1u);
  EXPECT_EQ(b.batches()[0].sequence(), a.batches()[0].sequence() + 1);
  client.Stop();
}

TEST_F(IngestClientTest, BatchesQueuedJustBeforeStopAreDelivered) {
  FakeIngest svc;
  TestServer server(&svc);
  ASSERT_TRUE(server.ok());
  IngestClient client({.sender_id = "h1", .sequence_base = 100}, metrics_, &clock_);
  client.Start();
  client.SetTarget(server.address());
  client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return svc.batches().size() == 1; }));
  // The collect loop's final flush on SIGTERM, then the ingest client's Stop.
  for (int i = 0; i < 20; ++i) client.Enqueue(Points(3));
  client.Stop();
  std::set<uint64_t> want;
  for (uint64_t seq = 101; seq <= 121; ++seq) want.insert(seq);
  EXPECT_EQ(svc.sequences(), want);
  EXPECT_EQ(client.stats().batches_dropped(), 0u);
  EXPECT_EQ(client.queued(), 0u);
}

TEST_F(IngestClientTest, StopDeliversEvenWhileBackingOff) {
  int port = 0;
  {
    FakeIngest unused;
    TestServer gone(&unused);
    port = gone.port();
  }
  IngestClient client({.sender_id = "h1",
                       .backoff_initial = absl::Seconds(60),
                       .backoff_max = absl::Seconds(60),
                       .sequence_base = 10},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(absl::StrCat("127.0.0.1:", port));
  client.Enqueue(Points(1));
  // The first attempt failed; now it is in a long backoff.
  ASSERT_TRUE(Eventually([&] { return metrics_.ingest_reconnects.Value() >= 1; }));
  FakeIngest svc;
  TestServer back(&svc, port);
  ASSERT_TRUE(back.ok());
  client.Enqueue(Points(1));
  client.Stop();  // does not wait out the backoff, and still delivers
  EXPECT_EQ(svc.sequences(), (std::set<uint64_t>{11, 12}));
  EXPECT_EQ(client.stats().batches_dropped(), 0u);
}

TEST_F(IngestClientTest, StopCountsWhatItCannotDeliverAsDropped) {
  int port = 0;
  {
    FakeIngest unused;
    TestServer gone(&unused);
    port = gone.port();
  }
  IngestClient client({.sender_id = "h1", .stop_grace = absl::Milliseconds(500)}, metrics_,
                      &clock_);
  client.Start();
  client.SetTarget(absl::StrCat("127.0.0.1:", port));
  for (int i = 0; i < 3; ++i) client.Enqueue(Points(1));
  const absl::Time start = absl::Now();
  client.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(client.stats().batches_dropped(), 3u);
  EXPECT_EQ(metrics_.batches_dropped.Value(), 3);
  EXPECT_EQ(client.queued(), 0u);
}

TEST_F(IngestClientTest, StopIsBoundedByItsGraceAgainstAWedgedAggregator) {
  WedgedIngest wedged;
  TestServer server(&wedged);
  IngestClient client({.sender_id = "h1", .stop_grace = absl::Milliseconds(300)}, metrics_,
                      &clock_);
  client.Start();
  client.SetTarget(server.address());
  client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return client.stats().batches_sent() == 1; }));
  const absl::Time start = absl::Now();
  client.Stop();  // Finish would wait for the wedged aggregator forever
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE(Eventually([&] { return wedged.cancelled.load() == 1; }));
}

// The sender is blocked in Finish() on the old aggregator, which never ends
// the call: the switch must still happen, after retarget_grace.
TEST_F(IngestClientTest, SwitchesAwayFromAWedgedAggregator) {
  WedgedIngest wedged;
  FakeIngest good;
  TestServer server_w(&wedged), server_g(&good);
  IngestClient client(
      {.sender_id = "h1", .retarget_grace = absl::Milliseconds(300), .sequence_base = 50}, metrics_,
      &clock_);
  client.Start();
  client.SetTarget(server_w.address());
  client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return client.stats().batches_sent() == 1; }));
  client.SetTarget(server_g.address());
  client.Enqueue(Points(1));
  // 51 was written to the wedged one but never acked, so it is resent.
  EXPECT_TRUE(Eventually(
      [&] {
        return good.sequences() == std::set<uint64_t>{51, 52};
      },
      absl::Seconds(5)));
  EXPECT_EQ(wedged.cancelled.load(), 1);
  client.Stop();
}

// As above, but blocked in Write(): the old aggregator never reads, so flow
// control stops the stream once its window is full.
TEST_F(IngestClientTest, SwitchesAwayFromAnAggregatorThatStoppedReading) {
  WedgedIngest wedged;
  FakeIngest good;
  TestServer server_w(&wedged), server_g(&good);
  IngestClient client({.sender_id = "h1",
                       .max_points_per_batch = 20000,
                       .retarget_grace = absl::Milliseconds(300),
                       .sequence_base = 0},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(server_w.address());
  // About 1 MB per batch: far more than an HTTP/2 flow-control window.
  std::vector<v1::Point> big = Points(20000);
  for (v1::Point& p : big) p.mutable_series()->set_metric(std::string(40, 'm'));
  for (int i = 0; i < 8; ++i) client.Enqueue(big);
  ASSERT_TRUE(Eventually([&] { return wedged.streams.load() == 1; }));
  // The wedged aggregator never reads, so the sender blocks in Write long
  // before its 8 MB are through.
  ASSERT_LT(client.stats().batches_sent(), 8u) << "the sender should be blocked in Write";
  client.SetTarget(server_g.address());
  const uint64_t last = client.last_enqueued_sequence();
  EXPECT_TRUE(Eventually([&] { return good.sequences().count(last) == 1; }, absl::Seconds(10)));
  EXPECT_EQ(good.sequences().size(), 8u);
  client.Stop();
}

TEST_F(IngestClientTest, AcknowledgedBatchesAreNotResentAfterAReconnect) {
  auto svc = std::make_unique<FakeIngest>();
  auto server = std::make_unique<TestServer>(svc.get());
  const int port = server->port();
  IngestClient client({.sender_id = "h1",
                       .backoff_initial = absl::Milliseconds(10),
                       .backoff_max = absl::Milliseconds(50),
                       .sequence_base = 0},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(server->address());
  for (int i = 0; i < 3; ++i) client.Enqueue(Points(1));
  ASSERT_TRUE(
      Eventually([&] { return svc->batches().size() == 3 && client.unacknowledged() == 0; }));
  server->Shutdown();
  auto svc2 = std::make_unique<FakeIngest>();
  TestServer restarted(svc2.get(), port);
  ASSERT_TRUE(restarted.ok());
  client.Enqueue(Points(1));
  const uint64_t last = client.last_enqueued_sequence();
  ASSERT_TRUE(Eventually([&] { return svc2->sequences().count(last) == 1; }));
  EXPECT_EQ(svc2->sequences(), (std::set<uint64_t>{last})) << "acknowledged batches were resent";
  client.Stop();
}

TEST_F(IngestClientTest, AMoveSendsTheNewAggregatorOnlyWhatTheOldOneLacks) {
  FakeIngest old_agg, new_agg;
  old_agg.ack = false;  // it stores what it gets, but its acks never arrive
  TestServer server_old(&old_agg), server_new(&new_agg);
  IngestClient client({.sender_id = "h1", .sequence_base = 0}, metrics_, &clock_);
  client.Start();
  client.SetTarget(server_old.address());
  for (int i = 0; i < 3; ++i) client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return old_agg.batches().size() == 3; }));
  EXPECT_EQ(client.unacknowledged(), 3u);
  client.SetTarget(server_new.address());  // the controller moved the host
  ASSERT_TRUE(Eventually([&] { return client.unacknowledged() == 0; }));
  EXPECT_GE(old_agg.last_sequence_asked.load(), 1);
  client.Enqueue(Points(1));
  const uint64_t last = client.last_enqueued_sequence();
  ASSERT_TRUE(Eventually([&] { return new_agg.sequences().count(last) == 1; }));
  EXPECT_EQ(new_agg.sequences(), (std::set<uint64_t>{last}))
      << "batches the old aggregator had were sent to the new one too";
  client.Stop();
}

TEST_F(IngestClientTest, AMoveAwayFromADeadAggregatorResendsWhatWasNotAcknowledged) {
  auto old_agg = std::make_unique<FakeIngest>();
  old_agg->ack = false;
  auto server_old = std::make_unique<TestServer>(old_agg.get());
  FakeIngest new_agg;
  TestServer server_new(&new_agg);
  IngestClient client(
      {.sender_id = "h1", .retarget_grace = absl::Milliseconds(500), .sequence_base = 0}, metrics_,
      &clock_);
  client.Start();
  client.SetTarget(server_old->address());
  for (int i = 0; i < 3; ++i) client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return old_agg->batches().size() == 3; }));
  const std::set<uint64_t> sent = old_agg->sequences();
  server_old->Shutdown();  // it died: nobody can say what it has
  client.SetTarget(server_new.address());
  ASSERT_TRUE(Eventually([&] { return new_agg.sequences() == sent; }));
  // The new aggregator's acks follow its receipt.
  EXPECT_TRUE(Eventually([&] { return client.unacknowledged() == 0; }));
  client.Stop();
}

std::string SpoolDir() {
  std::string tmpl = ::testing::TempDir() + "/ingest-spool-XXXXXX";
  return mkdtemp(tmpl.data());
}

// A port nothing listens on (yet).
int ClosedPort() {
  FakeIngest unused;
  TestServer gone(&unused);
  return gone.port();
}

TEST_F(IngestClientTest, AnOutageSpillsToTheSpoolAndEverythingArrivesInOrderAfterIt) {
  const std::string dir = SpoolDir();
  auto spool = Spool::Open({.dir = dir});
  ASSERT_TRUE(spool.ok());
  const int port = ClosedPort();
  IngestClient client({.sender_id = "h1",
                       .max_queued_batches = 3,
                       .backoff_initial = absl::Milliseconds(10),
                       .backoff_max = absl::Milliseconds(50),
                       .sequence_base = 0,
                       .spool = spool->get()},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(absl::StrCat("127.0.0.1:", port));
  for (int i = 0; i < 10; ++i) client.Enqueue(Points(1));
  EXPECT_LE(client.queued() + client.unacknowledged(), 3u) << "memory holds more than its bound";
  EXPECT_EQ((*spool)->unacknowledged(), 10u);
  FakeIngest svc;
  TestServer back(&svc, port);
  ASSERT_TRUE(back.ok());
  const uint64_t last = client.last_enqueued_sequence();
  ASSERT_TRUE(
      Eventually([&] { return svc.sequences().size() == 10 && (*spool)->unacknowledged() == 0; }));
  EXPECT_EQ(*svc.sequences().rbegin(), last);
  EXPECT_EQ(*svc.sequences().rbegin() - *svc.sequences().begin(), 9u);
  uint64_t previous = 0;
  for (const auto& b : svc.batches()) {
    EXPECT_GE(b.sequence(), previous) << "replayed out of order";
    previous = b.sequence();
  }
  EXPECT_EQ(client.stats().batches_dropped(), 0u);
  client.Stop();
  std::filesystem::remove_all(dir);
}

TEST_F(IngestClientTest, ARestartedAgentSendsWhatItsSpoolHeldFirst) {
  const std::string dir = SpoolDir();
  const int port = ClosedPort();
  std::set<uint64_t> first_run;
  {
    auto spool = Spool::Open({.dir = dir});
    ASSERT_TRUE(spool.ok());
    IngestClient client({.sender_id = "h1",
                         .stop_grace = absl::Milliseconds(100),
                         .sequence_base = 0,
                         .spool = spool->get()},
                        metrics_, &clock_);
    client.Start();
    client.SetTarget(absl::StrCat("127.0.0.1:", port));
    for (int i = 0; i < 3; ++i) client.Enqueue(Points(1));
    client.Stop();  // nothing delivered: it stays on disk
    EXPECT_EQ(client.stats().batches_dropped(), 0u);
  }
  auto spool = Spool::Open({.dir = dir});
  ASSERT_TRUE(spool.ok());
  ASSERT_EQ((*spool)->unacknowledged(), 3u);
  FakeIngest svc;
  TestServer server(&svc, port);
  IngestClient client({.sender_id = "h1", .sequence_base = 0, .spool = spool->get()}, metrics_,
                      &clock_);
  client.Start();
  client.SetTarget(server.address());
  client.Enqueue(Points(1));
  ASSERT_TRUE(Eventually([&] { return svc.sequences().size() == 4; }));
  std::vector<v1::IngestBatch> got = svc.batches();
  EXPECT_LT(got[2].sequence(), got[3].sequence()) << "the new run's batch is not above the old";
  EXPECT_EQ(got[3].sequence(), client.last_enqueued_sequence());
  client.Stop();
  std::filesystem::remove_all(dir);
}

TEST_F(IngestClientTest, AFullSpoolDropsTheOldestCountsThemAndTheAgentGoesOn) {
  const std::string dir = SpoolDir();
  auto spool = Spool::Open({.dir = dir, .max_bytes = 4000, .segment_bytes = 1000});
  ASSERT_TRUE(spool.ok());
  const int port = ClosedPort();
  IngestClient client({.sender_id = "h1",
                       .max_queued_batches = 4,
                       .backoff_initial = absl::Milliseconds(10),
                       .backoff_max = absl::Milliseconds(50),
                       .sequence_base = 0,
                       .spool = spool->get()},
                      metrics_, &clock_);
  client.Start();
  client.SetTarget(absl::StrCat("127.0.0.1:", port));
  for (int i = 0; i < 200; ++i) client.Enqueue(Points(3));
  const uint64_t dropped = client.stats().batches_dropped();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(metrics_.batches_dropped.Value(), static_cast<double>(dropped));
  EXPECT_LE((*spool)->bytes(), 4000u);
  FakeIngest svc;
  TestServer back(&svc, port);
  const uint64_t last = client.last_enqueued_sequence();
  ASSERT_TRUE(Eventually([&] { return svc.sequences().count(last) == 1; }));
  // Everything not dropped arrived: the newest ones, none lost silently.
  ASSERT_TRUE(Eventually([&] { return (*spool)->unacknowledged() == 0; }));
  EXPECT_EQ(svc.sequences().size() + dropped, 200u);
  client.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace andon::agent
