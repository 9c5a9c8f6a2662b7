#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "andon/v1/audit.pb.h"
#include "andon/v1/fleet.pb.h"
#include "andon/v1/query.pb.h"

namespace andon::sdk {

// Text renderings used by andonctl. Pure functions, so they are testable.

// One row per host: HOST, KERNEL, CPUS, AGGREGATOR, LAST SEEN, STATE, LABELS.
std::string FormatHostsTable(const v1::ListHostsResponse& hosts, absl::Time now);
// The aggregator tree, children indented under their parent: AGGREGATOR,
// ROLE, ADDRESS, HTTP, WEIGHT, HOSTS (both "-" for inner aggregators), LAST
// SEEN, STATE ("live" or "down", with ",draining" for a drained leaf).
std::string FormatAggregatorsTable(const v1::ListAggregatorsResponse& aggs, absl::Time now);

// One row per group: the group_by label values, then TOTAL.
std::string FormatQueryTable(const v1::QueryResponse& resp,
                             const std::vector<std::string>& group_by);

// {"metric":..,"groups":[{"labels":{"comm":"x"},"total":123}, ...]}
std::string FormatQueryJson(const v1::QueryResponse& resp);

// One row per audit entry, in the order given (newest first): TIME (in
// `zone`), WHO, ACTION, OBJECT, CHANGE (AuditChangeSummary).
std::string FormatAuditTable(const v1::ListAuditResponse& audit, absl::TimeZone zone);

// What an audit entry changed, in a few words: for labels "+tier=canary
// -rack role=db->web"; for probe configurations what was enabled
// ("biolatency on role=db, ttl 10m"), disabled ("was ...") or, for an
// update, which of probes, selector and ttl changed; for a drain or undrain
// "taking hosts -> draining" (or "no change (draining)").
std::string AuditChangeSummary(const v1::AuditEntry& entry);

// "3s ago", "2m ago", "never".
std::string Ago(const google::protobuf::Timestamp& t, absl::Time now);

}  // namespace andon::sdk
