#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "andon/v1/fleet.pb.h"
#include "andon/v1/probes.pb.h"
#include "andon/v1/query.pb.h"
#include "sdk/client.h"

namespace andon::testing {

// Waits of end-to-end probe tests: each polls the controller's API until an
// event happens (a status, a total, a heartbeat) and on timeout returns
// DEADLINE_EXCEEDED with the last answer seen, so a failure shows where the
// pipeline stood. Stateless; safe to call from any thread with a thread-safe
// client.

// Polls ProbeStatus(name) until `done` holds for it.
absl::StatusOr<v1::ProbeConfigStatus> WaitForProbeStatus(
    sdk::Client& client, const std::string& name,
    const std::function<bool(const v1::ProbeConfigStatus&)>& done, absl::Duration timeout);

// Polls until `hosts` hosts applied the configuration (every probe attached).
absl::StatusOr<v1::ProbeConfigStatus> WaitForProbeApplied(sdk::Client& client,
                                                          const std::string& name,
                                                          absl::Duration timeout,
                                                          uint32_t hosts = 1);

// Runs `request` (its metric, matchers, group_by, limit and fn) over the last
// ten minutes, as one bucket, re-anchored at each poll, until `done` holds
// for the answer.
absl::StatusOr<v1::QueryResponse> WaitForQuery(
    sdk::Client& client, const v1::QueryRequest& request,
    const std::function<bool(const v1::QueryResponse&)>& done, absl::Duration timeout);

// The sum of the series' totals of a query answer.
double TotalOf(const v1::QueryResponse& response);

// Like WaitForQuery, until TotalOf the answer is at least `at_least`.
absl::StatusOr<v1::QueryResponse> WaitForQueryTotal(sdk::Client& client,
                                                    const v1::QueryRequest& request,
                                                    double at_least, absl::Duration timeout);

// Polls GetHost(host_id) until `done` holds for it.
absl::StatusOr<v1::Host> WaitForHost(sdk::Client& client, const std::string& host_id,
                                     const std::function<bool(const v1::Host&)>& done,
                                     absl::Duration timeout);

// The number of BPF links a process holds: its descriptors whose
// /proc/PID/fdinfo has a "link_type:" line.
absl::StatusOr<int> CountBpfLinks(pid_t pid);

}  // namespace andon::testing
