// Keeps one gRPC callback server up for the whole test binary.
//
// gRPC 1.51 runs callbacks on a process-wide "callback alternative" completion
// queue whose threads are torn down when its last user (server or channel)
// goes. If that last user is dropped *on one of those threads* (a client
// callback releasing the final reference to a channel while a test tears
// down), the queue is destroyed under its own thread and the process aborts
// ("assertion failed: prior > 0", see grpc/grpc#32584). Holding a server for
// the binary's lifetime keeps the last reference on the main thread.
#include <grpcpp/grpcpp.h>

#include "andon/v1/query.grpc.pb.h"
#include "gtest/gtest.h"

namespace andon::controller {
namespace {

class KeepGrpcCallbackQueue : public ::testing::Environment {
 public:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);  // a callback service, never called
    server_ = builder.BuildAndStart();
  }
  void TearDown() override {
    server_->Shutdown();
    server_.reset();
  }

 private:
  v1::Query::CallbackService service_;
  std::unique_ptr<grpc::Server> server_;
};

[[maybe_unused]] ::testing::Environment* const kKeeper =
    ::testing::AddGlobalTestEnvironment(new KeepGrpcCallbackQueue);

}  // namespace
}  // namespace andon::controller
