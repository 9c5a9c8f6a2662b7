#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "andon/v1/fleet.pb.h"
#include "common/clock.h"
#include "controller/kv_store.h"
#include "controller/shard_map.h"

namespace andon::controller {

struct RegistryOptions {
  // A host counts as live (for shard counts and display) while its control
  // stream is open or it was seen within this.
  absl::Duration host_ttl = absl::Seconds(30);
  // An agent instance holds its host id while its control stream is open and
  // it heartbeats (every second) within this, and for this long after
  // Register until its stream opens. So an agent restarting on its host is
  // not locked out for host_ttl, and neither is a host back from a power loss
  // whose old stream was never closed.
  absl::Duration claim_grace = absl::Seconds(10);
  // Agents are told to heartbeat every hosts / this many seconds (at least
  // kMinHeartbeatInterval, at most kMaxHeartbeatInterval), so the
  // controller's heartbeat load stays about flat as the fleet grows, as
  // Nomad's max_heartbeats_per_second does. Probe set acknowledgments do not
  // wait for it: agents send them at once.
  double max_heartbeats_per_second = 500;
  // Aggregators heartbeat this often and are live while seen within
  // kAggregatorLiveHeartbeats intervals.
  absl::Duration aggregator_heartbeat = absl::Milliseconds(2000);
  // Which labels aggregators keep when they forward to their parent (the
  // --forward_rules flag); sent to every aggregator as it registers.
  std::vector<v1::ForwardRule> forward_rules;
};

// Five, not fewer: a controller busy with a reconnect storm answers an
// aggregator's heartbeat late, and a leaf taken for dead moves its hosts.
inline constexpr int kAggregatorLiveHeartbeats = 5;
// A connected host whose last heartbeat is older than this, or than
// kStaleHeartbeats heartbeat intervals if that is longer, is stale.
inline constexpr absl::Duration kHostStaleAfter = absl::Seconds(5);
inline constexpr int kStaleHeartbeats = 3;
inline constexpr absl::Duration kMinHeartbeatInterval = absl::Seconds(1);
inline constexpr absl::Duration kMaxHeartbeatInterval = absl::Seconds(30);
inline constexpr size_t kMaxPreviousAggregators = 8;

struct FleetCounts {
  size_t hosts_known = 0;
  size_t hosts_connected = 0;
  size_t aggregators_live = 0;
};

// The fleet's source of truth: hosts and aggregators, persisted in a KvStore
// (keys "h/<host_id>" -> v1::Host, "a/<aggregator_id>" -> v1::Aggregator) with
// an in-memory copy, so a restart keeps them. Knows nothing of gRPC.
// Thread-safe: one mutex guards the copy and serialises writes to the store.
class Registry {
 public:
  // Loads every stored host and aggregator. `store` and `clock` must outlive
  // the registry. Hosts come back disconnected (their streams died with the
  // previous process).
  static absl::StatusOr<std::unique_ptr<Registry>> Open(KvStore* store, const Clock* clock,
                                                        RegistryOptions options = {});

  // Registers or re-registers a host. Accepted when the host id is new, held
  // by the same instance, or held by an instance whose control stream is
  // closed (and which did not register within claim_grace).
  // INVALID_ARGUMENT for a bad HostInfo/instance id; ALREADY_EXISTS when a
  // different live instance holds the id (its record is left unchanged).
  absl::StatusOr<v1::Host> RegisterHost(const v1::HostInfo& info, absl::string_view instance_id);

  // Assigns the host to a live aggregator by the current shard map and
  // records it. NOT_FOUND for an unknown host; UNAVAILABLE when no aggregator
  // is live.
  absl::StatusOr<v1::AggregatorRef> AssignHost(absl::string_view host_id);
  // Records that the host was told to use `aggregator_id`; the one it had
  // before joins previous_aggregator_ids.
  absl::Status SetAssignment(absl::string_view host_id, absl::string_view aggregator_id);

  // Marks the host's control stream open or closed. Opening fails with
  // FAILED_PRECONDITION unless `instance_id` holds the host; closing by an
  // instance that no longer holds it is a no-op.
  absl::Status SetConnected(absl::string_view host_id, absl::string_view instance_id,
                            bool connected);
  // Stores a heartbeat and refreshes last_seen; FAILED_PRECONDITION unless
  // `instance_id` holds the host.
  absl::Status RecordHeartbeat(absl::string_view host_id, absl::string_view instance_id,
                               const v1::Heartbeat& heartbeat);

  // Sets labels (`set`) and removes others (`remove`) over those the host's
  // agent reports, and keeps them in the host's label_overrides so that they
  // hold across the agent's re-registrations. NOT_FOUND for an unknown host;
  // INVALID_ARGUMENT (changing nothing) for an invalid label name, the label
  // `host` (selectors match it against the host id), an empty value, a label
  // both set and removed, or nothing to change.
  absl::StatusOr<v1::Host> SetHostLabels(absl::string_view host_id,
                                         const std::map<std::string, std::string>& set,
                                         const std::vector<std::string>& remove);

  // NOT_FOUND with the id in the message. Its state is filled in.
  absl::StatusOr<v1::Host> GetHost(absl::string_view host_id) const;
  // The host's labels (after overrides), or nullopt for an unknown host;
  // cheaper than GetHost when only they are needed.
  std::optional<google::protobuf::Map<std::string, std::string>> LabelsOf(
      absl::string_view host_id) const;
  // Calls `visit` with every host and its state now, in id order, under the
  // registry's reader lock: `visit` must be quick and must not call back.
  void VisitHosts(const std::function<void(const v1::Host&, v1::HostState)>& visit) const;
  // up / stale / down at `now` (see v1::HostState).
  v1::HostState StateOf(const v1::Host& host, absl::Time now) const;
  // Hosts, sorted by id, whose labels include every selector label.
  std::vector<v1::Host> ListHosts(const std::map<std::string, std::string>& selector) const;

  // Adds or updates an aggregator (with its parent, role and weight, 0
  // meaning kDefaultAggregatorWeight) and marks it seen now; whether it is
  // draining is the controller's and stays as it was. Returns its parent's
  // address when the parent is registered and live, else an empty ref.
  // INVALID_ARGUMENT without id or address, or for a parent that is itself
  // or would close a cycle.
  absl::StatusOr<v1::AggregatorRef> RegisterAggregator(
      const v1::RegisterAggregatorRequest& request);
  // The aggregators that restarted while they were live (a new instance_id
  // within the live window) since the last call: their hosts' ingest
  // streams broke and back off, and are told to reconnect now.
  std::vector<std::string> TakeRestartedAggregators();
  // Drains a leaf (it takes no hosts in LiveShardMap) or takes it back, and
  // persists that. Returns the aggregator as ListAggregators shows it.
  // NOT_FOUND naming the id for an unknown aggregator; FAILED_PRECONDITION
  // for an inner one (it takes no hosts).
  absl::StatusOr<v1::Aggregator> SetAggregatorDraining(absl::string_view id, bool draining);
  // The aggregator as ListAggregators shows it; NOT_FOUND naming the id.
  absl::StatusOr<v1::Aggregator> GetAggregator(absl::string_view id) const;
  // All known aggregators, sorted by id, with `live`, `weight` and `hosts`
  // (live hosts the current shard map gives it) filled in.
  std::vector<v1::Aggregator> ListAggregators() const;
  // Live leaves, draining or not: the aggregators holding hosts' windows.
  std::vector<v1::AggregatorRef> LiveAggregators() const;
  // The aggregators that together hold the whole fleet's data at the least
  // depth: each root (an aggregator without a known parent) if it is live,
  // else, in its place, the same for each of its children.
  std::vector<v1::AggregatorRef> TreeTops() const;
  // The live leaves by weight, draining ones taking no hosts unless every
  // live leaf is draining (then they keep them; logged once when that
  // starts).
  ShardMap LiveShardMap() const;
  // The aggregators holding the host's windows: its current aggregator and
  // the live ones among those it had before. Empty when the host is unknown
  // or its current aggregator is not live (then the caller should ask all).
  std::vector<v1::AggregatorRef> AggregatorsOfHost(absl::string_view host_id) const;

  FleetCounts Counts() const;
  const RegistryOptions& options() const { return options_; }

  // Writes the hosts changed since the last call to the store, in one
  // write. Agents' registrations, connections, assignments and heartbeats
  // are kept in memory at once and written behind by this (the owner calls
  // it about every 100 ms, and the destructor once more), so that a storm of
  // 10,000 registrations is a few hundred batched writes, none of them under
  // the registry's lock. A crash loses at most the changes since the last
  // flush, which the agents repeat when they reconnect. Operator changes
  // (labels) are written through. On a failed write the hosts stay dirty for
  // the next call.
  absl::Status Flush();
  ~Registry();

  // How often agents should heartbeat now, from the number of known hosts
  // and max_heartbeats_per_second, in whole seconds. Lock-free.
  absl::Duration HeartbeatInterval() const;
  // A connected host that has not heartbeat for this long is stale.
  absl::Duration StaleAfter() const;

 private:
  struct HostEntry {
    v1::Host host;
    absl::Time persisted_at;  // when `host` was last written to the store
    // Until when a registration without an open control stream holds the id.
    absl::Time claim_pending_until = absl::InfinitePast();
  };

  Registry(KvStore* store, const Clock* clock, RegistryOptions options)
      : store_(store), clock_(clock), options_(options) {}
  absl::Status Load();

  bool HostLive(const v1::Host& host, absl::Time now) const;
  // True while an agent instance holds the id against other instances.
  bool HostClaimed(const HostEntry& entry, absl::Time now) const;
  bool AggregatorLive(const v1::Aggregator& agg, absl::Time now) const;
  // Live leaves.
  std::vector<v1::AggregatorRef> LiveAggregatorsLocked(absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ShardMap LiveShardMapLocked(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Marks the host for the next Flush().
  void PersistHost(HostEntry& entry, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes it now (and clears its mark).
  absl::Status PersistHostNow(HostEntry& entry, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<HostEntry*> HeldHost(absl::string_view host_id, absl::string_view instance_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  KvStore* const store_;
  const Clock* const clock_;
  const RegistryOptions options_;

  mutable absl::Mutex mu_;
  std::map<std::string, HostEntry, std::less<>> hosts_ ABSL_GUARDED_BY(mu_);
  std::set<std::string, std::less<>> dirty_ ABSL_GUARDED_BY(mu_);  // hosts to Flush()
  absl::Mutex flush_mu_;               // one Flush() at a time, so writes land in order
  std::atomic<size_t> host_count_{0};  // hosts_.size(), for HeartbeatInterval()
  std::map<std::string, v1::Aggregator, std::less<>> aggregators_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> restarted_aggregators_ ABSL_GUARDED_BY(mu_);
  // Each aggregator's instance (RegisterAggregatorRequest.instance_id) as
  // last seen by this process.
  std::map<std::string, std::string, std::less<>> aggregator_instances_ ABSL_GUARDED_BY(mu_);
  // Aggregators live when the store was last written, and when it was
  // opened: they count as seen then (see Load).
  std::set<std::string, std::less<>> restart_grace_;  // set in Load only
  absl::Time opened_at_;
  // Whether LiveShardMap last found every live leaf draining (to log the
  // change once, not at every call).
  mutable std::atomic<bool> all_leaves_draining_{false};
};

}  // namespace andon::controller
