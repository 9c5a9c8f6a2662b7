#include "common/server_queues.h"

#include <pthread.h>

#include <string>

namespace andon {

ServerQueues::ServerQueues(int count) : count_(count < 1 ? 1 : count) {}

ServerQueues::~ServerQueues() { Stop(); }

void ServerQueues::AddTo(grpc::ServerBuilder* builder) {
  for (int i = 0; i < count_; ++i) queues_.push_back(builder->AddCompletionQueue());
}

void ServerQueues::StartThreads() {
  for (size_t i = 0; i < queues_.size(); ++i) {
    grpc::ServerCompletionQueue* queue = queues_[i].get();
    threads_.emplace_back([queue, i] {
      const std::string name = "queue_" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      void* tag = nullptr;
      bool ok = false;
      while (queue->Next(&tag, &ok)) static_cast<Tag*>(tag)->Run(ok);
    });
  }
}

void ServerQueues::CallBegins() {
  absl::MutexLock lock(&calls_mu_);
  ++calls_;
}

void ServerQueues::CallEnds() {
  absl::MutexLock lock(&calls_mu_);
  --calls_;
}

void ServerQueues::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    absl::MutexLock lock(&calls_mu_);
    calls_mu_.Await(absl::Condition(
        +[](int64_t* calls) { return *calls == 0; }, &calls_));
  }
  // Next() returns false once a shut-down queue is drained.
  for (auto& q : queues_) q->Shutdown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace andon
