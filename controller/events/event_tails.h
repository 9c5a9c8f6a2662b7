#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/events.pb.h"
#include "common/clock.h"
#include "controller/registry.h"

namespace andon::controller {

// Live tails: the events agents send while a tail is on, in one bounded ring
// with a controller-wide sequence (the oldest fall off, counted), and the
// tails in force. Tail() answers a reader and says which agents must be
// told to (keep) sending. Knows nothing of gRPC. Thread-safe.
class EventTails {
 public:
  static constexpr size_t kCapacity = 20000;

  // Tells the selected connected hosts to send events; returns how many.
  using SendTail = std::function<uint32_t(const v1::TargetSelector&, const v1::EventTailRequest&)>;

  // `registry` (for host labels) and `clock` must outlive this.
  EventTails(const Registry* registry, const Clock* clock, SendTail send)
      : registry_(registry), clock_(clock), send_(std::move(send)) {}

  // Keeps the tail alive, (re)tells agents when needed, and returns the
  // events after request.after_sequence that match it. INVALID_ARGUMENT for
  // a bad selector or keep_for.
  absl::StatusOr<v1::TailResponse> Tail(const v1::TailRequest& request);

  // Stores events a host sent.
  void Add(const std::string& host_id, const v1::EventBatch& batch);

 private:
  struct Stored {
    uint64_t sequence;
    v1::Event event;
  };
  struct Active {
    absl::Time pushed_until = absl::InfinitePast();
    uint32_t hosts = 0;
  };

  const Registry* const registry_;
  const Clock* const clock_;
  const SendTail send_;

  absl::Mutex mu_;
  std::deque<Stored> events_ ABSL_GUARDED_BY(mu_);
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Active> active_ ABSL_GUARDED_BY(mu_);  // by selector + types
};

}  // namespace andon::controller
