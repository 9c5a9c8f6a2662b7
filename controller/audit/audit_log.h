#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "andon/v1/audit.pb.h"
#include "common/clock.h"
#include "controller/kv_store.h"
#include "google/protobuf/message.h"

namespace andon::controller {

// What an audit entry records as its actor when the controller itself made
// the change (a TTL ran out, the first `default` configuration).
inline constexpr char kAuditByController[] = "controller";

// Actions of audit entries.
inline constexpr char kAuditProbesEnable[] = "probes.enable";    // a new configuration
inline constexpr char kAuditProbesUpdate[] = "probes.update";    // one replaced
inline constexpr char kAuditProbesDisable[] = "probes.disable";  // one deleted
inline constexpr char kAuditProbesExpire[] = "probes.expire";    // its TTL ran out
inline constexpr char kAuditLabelsSet[] = "labels.set";          // a host's labels changed
// A leaf aggregator drained, and taken back.
inline constexpr char kAuditAggregatorsDrain[] = "aggregators.drain";
inline constexpr char kAuditAggregatorsUndrain[] = "aggregators.undrain";

struct AuditLogOptions {
  // Older entries are deleted as new ones come, one or so per append.
  size_t max_entries = 100000;
};

// The controller's audit log: who changed what, when, and the object before
// and after, kept in the KvStore as "audit/<16-digit sequence>" ->
// v1::AuditEntry so that keys sort by age. Entries are written with the
// store's durability (they survive a process crash or restart) and only the
// newest max_entries are kept. Knows nothing of gRPC.
// Thread-safe: appends are serialised by one mutex; lists read the store.
class AuditLog {
 public:
  // Finds the newest and oldest stored entries so that sequences go on where
  // they stopped. `store` and `clock` must outlive the log. Fails when the
  // store cannot be read.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(KvStore* store, const Clock* clock,
                                                        AuditLogOptions options = {});

  // Records a change made by `who` now; `before` and `after` (either may be
  // null: nothing) are kept as protobuf JSON. Fails, recording nothing, when
  // the store cannot be written.
  [[nodiscard]] absl::Status Append(absl::string_view who, absl::string_view action,
                                    absl::string_view object,
                                    const google::protobuf::Message* before,
                                    const google::protobuf::Message* after);

  // Entries newest first, at most request.limit (0: 100, at most 10000), only
  // those about request.object when it is set.
  absl::StatusOr<v1::ListAuditResponse> List(const v1::ListAuditRequest& request) const;

  // Entries kept now.
  size_t size() const;

 private:
  AuditLog(KvStore* store, const Clock* clock, AuditLogOptions options)
      : store_(store), clock_(clock), options_(options) {}
  absl::Status Load();

  KvStore* const store_;
  const Clock* const clock_;
  const AuditLogOptions options_;

  mutable absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;    // the sequence of the next entry
  uint64_t oldest_ ABSL_GUARDED_BY(mu_) = 1;  // the oldest kept (== next_ when empty)
};

}  // namespace andon::controller
