#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "andon/v1/ingest.grpc.pb.h"

namespace andon::testing {

// Pushes ingest batches to a real aggregator the way an agent does, over
// the real Ingest API, for tests that need data without loading BPF.
class SimSender {
 public:
  SimSender(const std::string& aggregator_address, std::string sender_id);

  // An empty batch from this sender with the given sequence.
  v1::IngestBatch Batch(uint64_t sequence) const;
  // A `syscalls` counter point (syscall "read") of this sender's host for
  // the 1 s window starting at `window_start` (truncated to the second).
  v1::Point SyscallPoint(const std::string& comm, uint64_t count, absl::Time window_start) const;

  // Sends one batch on its own stream and returns the stream's status.
  grpc::Status Push(const v1::IngestBatch& batch, v1::IngestAck* ack = nullptr);

 private:
  std::string sender_id_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
};

}  // namespace andon::testing
