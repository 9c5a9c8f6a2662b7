#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grpc {
class ClientContext;
}

namespace andon {

// The stop / sleep / cancel part of a client thread's loop: Stop() ends
// every SleepFor() at once and cancels the call registered with Track(), so
// that a thread blocked in a sync gRPC call notices promptly. Wake() cuts
// the current sleep short without stopping. Thread-safe.
class StopSignal {
 public:
  // Stops for good: wakes sleepers and cancels the tracked call.
  void Stop();
  bool stopping() const;
  // Re-arms after Stop() (for a Start() after a Stop()).
  void Reset();

  // Sleeps for `d`, or until Stop() or Wake(); false if stopping.
  bool SleepFor(absl::Duration d);
  void Wake();

  // Registers `context` for cancellation by Stop() while the scope lives. A
  // context tracked after Stop() is cancelled at once.
  class Tracked {
   public:
    Tracked(StopSignal& signal, grpc::ClientContext* context);
    ~Tracked();
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;

   private:
    StopSignal& signal_;
  };

 private:
  bool Interrupted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace andon
