#include "tests/harness/sim_sender.h"

#include "absl/time/clock.h"

namespace andon::testing {

SimSender::SimSender(const std::string& aggregator_address, std::string sender_id)
    : sender_id_(std::move(sender_id)),
      stub_(v1::Ingest::NewStub(
          grpc::CreateChannel(aggregator_address, grpc::InsecureChannelCredentials()))) {}

v1::IngestBatch SimSender::Batch(uint64_t sequence) const {
  v1::IngestBatch b;
  b.set_sender_id(sender_id_);
  b.set_sender_kind(v1::AGENT);
  b.set_sequence(sequence);
  return b;
}

v1::Point SimSender::SyscallPoint(const std::string& comm, uint64_t count,
                                  absl::Time window_start) const {
  v1::Point p;
  auto* key = p.mutable_series();
  key->set_metric("syscalls");
  for (auto [n, v] : {std::pair<std::string, std::string>{"comm", comm},
                      {"host", sender_id_},
                      {"syscall", "read"}}) {
    auto* l = key->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  p.set_window_start_ns(absl::ToUnixSeconds(window_start) * 1000000000);
  p.set_window_ns(1000000000);
  p.mutable_value()->set_counter(count);
  return p;
}

grpc::Status SimSender::Push(const v1::IngestBatch& batch, v1::IngestAck* ack) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::IngestAck local;
  auto writer = stub_->Push(&ctx, ack ? ack : &local);
  writer->Write(batch);
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace andon::testing
