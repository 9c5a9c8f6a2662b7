#include "aggregator/ingest_service.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "aggregator/batch_validator.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_service.h"
#include "aggregator/storage/rocksdb_series_store.h"
#include "aggregator/test_batches.h"
#include "andon/v1/query.grpc.pb.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/series_dict.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace andon::aggregator {
namespace {

using ::andon::aggregator::testing::AllSeries;
using ::andon::aggregator::testing::Batch;
using ::andon::aggregator::testing::CounterPoint;
using ::andon::aggregator::testing::kSecondNs;
using ::andon::aggregator::testing::kT0Ns;
using ::andon::aggregator::testing::Syscalls;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A real aggregator gRPC server (Ingest + Query) on 127.0.0.1:0 over a store
// in a temporary directory, and a client channel to it.
class IngestServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/ingest_service_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = RocksDbSeriesStore::Open(dir_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
    ingest_ = std::make_unique<IngestService>(store_.get(), &validator_, &metrics_);
    engine_ = std::make_unique<QueryEngine>(store_.get(), &catalog_,
                                            QueryEngine::kDefaultMaxPointsScanned, &clock_);
    query_ = std::make_unique<QueryService>(engine_.get());
    int port = 0;
    auto server = StartGrpcServer("127.0.0.1:0", {ingest_.get(), query_.get()}, &port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    ingest_stub_ = v1::Ingest::NewStub(channel);
    query_stub_ = v1::Query::NewStub(channel);
  }
  void TearDown() override {
    server_->Shutdown();
    ingest_->StopServing();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Sends `batches` on one Push stream and returns the stream's status.
  grpc::Status Push(const std::vector<v1::IngestBatch>& batches, v1::IngestAck* ack) {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientWriter<v1::IngestBatch>> writer = ingest_stub_->Push(&context, ack);
    for (const v1::IngestBatch& b : batches) {
      if (!writer->Write(b)) break;  // The server ended the stream.
    }
    writer->WritesDone();
    return writer->Finish();
  }

  // The first 10 s of syscalls by syscall, through the Query service.
  grpc::Status SyscallsBySyscall(v1::QueryResponse* response) {
    grpc::ClientContext context;
    v1::QueryRequest request;
    request.set_metric("syscalls");
    request.add_group_by("syscall");
    request.mutable_start()->set_seconds(kT0Ns / kSecondNs);
    request.mutable_end()->set_seconds(kT0Ns / kSecondNs + 10);
    return query_stub_->Query(&context, request, response);
  }

  // Waits until gRPC has released every stream on the server.
  // The server runs a reactor's OnDone after the client saw its call end.
  void ExpectNoStreamsOpen() {
    EXPECT_TRUE(ingest_->WaitForOpenStreams(0, absl::Seconds(30)))
        << ingest_->OpenStreams() << " streams still open";
    EXPECT_EQ(metrics_.streams_open.Value(), 0);
  }

  std::string dir_;
  FakeClock clock_{absl::FromUnixNanos(kT0Ns)};
  MetricCatalog catalog_;
  BatchValidator validator_{&clock_, &catalog_};
  prometheus::Registry registry_;
  IngestMetrics metrics_ = IngestMetrics::Create(registry_);
  std::unique_ptr<RocksDbSeriesStore> store_;
  std::unique_ptr<QueryEngine> engine_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<QueryService> query_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Ingest::Stub> ingest_stub_;
  std::unique_ptr<v1::Query::Stub> query_stub_;
};

TEST_F(IngestServiceTest, ValidBatchesAreStoredAndAcked) {
  v1::IngestAck ack;
  grpc::Status status = Push({Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)}),
                              Batch("h1", 2,
                                    {Syscalls("h1", "nginx", "read", kT0Ns, 4),
                                     Syscalls("h1", "nginx", "write", kT0Ns, 1)})},
                             &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ack.last_sequence(), 2u);
  EXPECT_EQ(ack.batches_accepted(), 2u);
  EXPECT_EQ(ack.points_accepted(), 3u);
  EXPECT_EQ(ack.batches_duplicate(), 0u);
  EXPECT_EQ(AllSeries(*store_, "syscalls").size(), 2u);

  // The stored data is visible through the Query service.
  v1::QueryResponse response;
  status = SyscallsBySyscall(&response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.series_size(), 2);
  EXPECT_EQ(response.series(0).labels(0).value(), "read");
  EXPECT_EQ(response.series(0).total(), 7);

  // A replay on a new stream (an agent reconnecting) is acked, not applied.
  v1::IngestAck replay_ack;
  status = Push({Batch("h1", 2, {Syscalls("h1", "nginx", "read", kT0Ns, 4)})}, &replay_ack);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(replay_ack.batches_duplicate(), 1u);
  EXPECT_EQ(replay_ack.batches_accepted(), 0u);
  EXPECT_EQ(replay_ack.last_sequence(), 2u);
  EXPECT_EQ(metrics_.batches_received.Value(), 3);
  EXPECT_EQ(metrics_.batches_duplicate.Value(), 1);
  EXPECT_EQ(metrics_.points_received.Value(), 4);
  EXPECT_GT(metrics_.bytes_received.Value(), 0);
  ExpectNoStreamsOpen();
}

TEST_F(IngestServiceTest, MalformedBatchEndsStreamWithInvalidArgumentStoringNothing) {
  v1::IngestAck ack;
  grpc::Status status = Push({Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)}),
                              Batch("h2", 1,
                                    {Syscalls("h2", "bash", "read", kT0Ns, 1),
                                     CounterPoint("bogus_metric", {}, kT0Ns, 1)}),
                              Batch("h3", 1, {Syscalls("h3", "bash", "read", kT0Ns, 1)})},
                             &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown metric 'bogus_metric'"));
  EXPECT_THAT(status.error_message(), HasSubstr("batch from 'h2'"));
  // The batch before the bad one stays applied; nothing of or after it is.
  EXPECT_EQ(*store_->LastSequence("h1"), 1u);
  EXPECT_EQ(*store_->LastSequence("h2"), 0u);
  EXPECT_EQ(*store_->LastSequence("h3"), 0u);
  EXPECT_EQ(AllSeries(*store_, "syscalls").size(), 1u);
  EXPECT_EQ(metrics_.batches_rejected.Value(), 1);
  ExpectNoStreamsOpen();
}

TEST_F(IngestServiceTest, OversizedMessageIsRefusedByGrpc) {
  v1::IngestBatch batch = Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)});
  v1::Event* event = batch.add_events();
  event->set_type("exec");
  event->set_host(std::string(kMaxReceiveMessageBytes + 1024, 'x'));
  v1::IngestAck ack;
  grpc::Status status = Push({batch}, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(*store_->LastSequence("h1"), 0u);
  EXPECT_THAT(AllSeries(*store_, "syscalls"), IsEmpty());
}

TEST_F(IngestServiceTest, ListMetricsServesTheCatalog) {
  grpc::ClientContext context;
  v1::ListMetricsResponse response;
  grpc::Status status = query_stub_->ListMetrics(&context, v1::ListMetricsRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(response.metrics_size(), 2);
  bool syscalls = false;
  for (const auto& m : response.metrics()) syscalls = syscalls || m.name() == "syscalls";
  EXPECT_TRUE(syscalls) << response.DebugString();
}

TEST_F(IngestServiceTest, QueryErrorsKeepTheirCode) {
  grpc::ClientContext context;
  v1::QueryRequest request;
  request.set_metric("syscalls");
  v1::QueryResponse response;
  grpc::Status status = query_stub_->Query(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("start and end"));
}

}  // namespace
}  // namespace andon::aggregator

namespace andon::aggregator {
namespace {

using ::andon::aggregator::testing::Batch;
using ::andon::aggregator::testing::kT0Ns;
using ::andon::aggregator::testing::Syscalls;

TEST_F(IngestServiceTest, StreamAcksEachBatchAsItIsStored) {
  grpc::ClientContext context;
  auto stream = ingest_stub_->Stream(&context);
  v1::IngestAck ack;
  ASSERT_TRUE(stream->Write(Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)})));
  ASSERT_TRUE(stream->Read(&ack));  // before the stream ends
  EXPECT_EQ(ack.last_sequence(), 1u);
  EXPECT_EQ(store_->LastSequence("h1").value(), 1u) << "acked before it was stored";
  ASSERT_TRUE(stream->Write(Batch("h1", 2, {Syscalls("h1", "nginx", "read", kT0Ns, 4)})));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.last_sequence(), 2u);
  // A replay is acked as a duplicate and not applied again.
  ASSERT_TRUE(stream->Write(Batch("h1", 2, {Syscalls("h1", "nginx", "read", kT0Ns, 4)})));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.last_sequence(), 2u);
  EXPECT_EQ(ack.batches_duplicate(), 1u);
  // An invalid batch ends the stream with its reason.
  ASSERT_TRUE(stream->Write(Batch("", 3, {})));
  EXPECT_FALSE(stream->Read(&ack));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext ask;
  v1::LastSequenceRequest request;
  request.set_sender_id("h1");
  v1::IngestAck last;
  ASSERT_TRUE(ingest_stub_->LastSequence(&ask, request, &last).ok());
  EXPECT_EQ(last.last_sequence(), 2u);
  ExpectNoStreamsOpen();
}

TEST_F(IngestServiceTest, NumberedSeriesAreStoredAsIfSentWholeAndOnlyOnTheirOwnStream) {
  grpc::ClientContext context;
  auto stream = ingest_stub_->Stream(&context);
  v1::IngestAck ack;
  ASSERT_TRUE(stream->Write(Batch("h1", 1, {Syscalls("h1", "nginx", "read", kT0Ns, 3)})));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_TRUE(ack.series_refs()) << "the aggregator must say it reads numbered series";
  SeriesDictEncoder dict;
  v1::IngestBatch second = Batch(
      "h1", 2,
      {Syscalls("h1", "nginx", "read", kT0Ns, 4), Syscalls("h1", "nginx", "write", kT0Ns, 1)});
  dict.Encode(second);
  ASSERT_EQ(second.series_defs_size(), 2);
  ASSERT_TRUE(stream->Write(second));
  ASSERT_TRUE(stream->Read(&ack));
  v1::IngestBatch third = Batch("h1", 3, {Syscalls("h1", "nginx", "read", kT0Ns, 5)});
  dict.Encode(third);
  ASSERT_EQ(third.series_defs_size(), 0);
  ASSERT_FALSE(third.points(0).has_series());
  ASSERT_TRUE(stream->Write(third));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.last_sequence(), 3u);
  EXPECT_EQ(ack.points_accepted(), 4u);
  EXPECT_EQ(metrics_.series_numbered.Value(), 2);  // held while the stream is open
  ASSERT_TRUE(stream->WritesDone());
  ASSERT_TRUE(stream->Finish().ok());

  v1::QueryResponse response;
  ASSERT_TRUE(SyscallsBySyscall(&response).ok());
  ASSERT_EQ(response.series_size(), 2);
  EXPECT_EQ(response.series(0).labels(0).value(), "read");
  EXPECT_EQ(response.series(0).total(), 12);
  EXPECT_EQ(response.series(1).total(), 1);

  // A number from another stream means nothing here: refused, nothing
  // stored, and the stream says why.
  grpc::ClientContext other;
  auto next = ingest_stub_->Stream(&other);
  v1::IngestBatch stale = Batch("h1", 4, {Syscalls("h1", "nginx", "read", kT0Ns, 6)});
  stale.mutable_points(0)->clear_series();
  stale.mutable_points(0)->set_series_ref(1);
  ASSERT_TRUE(next->Write(stale));
  EXPECT_FALSE(next->Read(&ack));
  grpc::Status status = next->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("series_ref 1, which this stream has not defined"));
  EXPECT_EQ(*store_->LastSequence("h1"), 3u);
  EXPECT_EQ(metrics_.batches_rejected.Value(), 1);
  ExpectNoStreamsOpen();
  EXPECT_EQ(metrics_.series_numbered.Value(), 0);  // let go with their streams
}

}  // namespace
}  // namespace andon::aggregator
