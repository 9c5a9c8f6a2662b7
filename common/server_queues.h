#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace andon {

// Completion queues for a service's async (completion-queue API) methods,
// each drained by a thread of its own.
//
// gRPC's callback API (as packaged here, 1.51 on epoll1) runs every callback
// of a process through one shared queue with two threads, and a debug build
// of the library checks each completion against every operation pending on
// that queue. A method that holds one stream per host (10,000 of them) is
// served here instead, across several queues: each completion is checked
// against its own queue's share only, and the queues' locks are not shared.
//
// Use: AddTo() before the server's BuildAndStart(), Start() after it,
// Stop() after the server's Shutdown() (the destructor stops too).
class ServerQueues {
 public:
  // What a queue hands back: every tag put on these queues is one, and its
  // Run(ok) is called on the queue's thread (ok as gRPC's Next() says).
  class Tag {
   public:
    virtual void Run(bool ok) = 0;

   protected:
    ~Tag() = default;
  };

  explicit ServerQueues(int count);
  ~ServerQueues();
  ServerQueues(const ServerQueues&) = delete;
  ServerQueues& operator=(const ServerQueues&) = delete;

  void AddTo(grpc::ServerBuilder* builder);
  // Calls `first(queue)` for every queue (to request its first calls), then
  // starts draining them.
  template <typename F>
  void Start(F first) {
    for (auto& q : queues_) first(q.get());
    StartThreads();
  }
  // A call on these queues (requested, or running) begins or ends: until
  // it ends it may start operations on its queue, which must then not be
  // shut down. Thread-safe.
  void CallBegins();
  void CallEnds();
  // After the server's Shutdown() (which ends or cancels every call): waits
  // until every call ended, then shuts the queues down, runs what they
  // still hold and joins the threads. Idempotent.
  void Stop();

 private:
  void StartThreads();

  int count_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
  absl::Mutex calls_mu_;
  int64_t calls_ ABSL_GUARDED_BY(calls_mu_) = 0;
};

// A tag that calls `(object->*done)(ok)`: one per kind of operation of a
// call object (at most one of each kind in flight).
template <typename T>
class MemberTag final : public ServerQueues::Tag {
 public:
  MemberTag(T* object, void (T::*done)(bool)) : object_(object), done_(done) {}
  void Run(bool ok) override { (object_->*done_)(ok); }

 private:
  T* const object_;
  void (T::*const done_)(bool);
};

// The two completions that end an async server call, in either order: its
// Finish, and gRPC's word that it is done (AsyncNotifyWhenDone). The call
// object goes after the second. Thread-safe.
class CallEndings {
 public:
  // Whether this completion is the second.
  bool Last() { return seen_.fetch_add(1, std::memory_order_acq_rel) == 1; }

 private:
  std::atomic<int> seen_{0};
};

// A service whose methods are (partly) served on ServerQueues:
// StartGrpcServer() adds and starts its queues.
class QueuedService {
 public:
  virtual void AddQueues(grpc::ServerBuilder* builder) = 0;
  // After the server started: requests the first calls, starts the threads.
  virtual void StartQueues() = 0;

 protected:
  ~QueuedService() = default;
};

}  // namespace andon
