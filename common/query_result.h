#pragma once

// Building a query's answer from typed values, shared by the aggregators
// (from stored windows) and the controller (from its aggregators' typed
// answers), so that both reduce and finish alike.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "andon/v1/query.pb.h"
#include "common/query_plan.h"

namespace andon {

// Merges values into groups (one per distinct value of plan.group_by) and
// buckets (of plan.step_ns from plan.start_ns), exactly, then either hands
// the merged values on (Typed) or applies plan.fn (Finish). Not
// thread-safe; `plan` must outlive the reducer.
class QueryReducer {
 public:
  explicit QueryReducer(const QueryPlan* plan) : plan_(plan) {}

  // Merges `value` of a window starting at `window_start_ns` (in the plan's
  // range) into the group of `label_values` (one per plan.group_by).
  // INVALID_ARGUMENT when the value cannot merge with what the group holds
  // (another kind, another histogram resolution).
  absl::Status Add(const std::vector<std::string>& label_values, int64_t window_start_ns,
                   const v1::Value& value);

  // Merges the series of a typed answer (QueryRequest.typed) to the same
  // plan. INVALID_ARGUMENT for a point outside the range or a value that
  // does not merge.
  absl::Status AddTyped(const v1::QueryResponse& typed);

  size_t groups() const { return groups_.size(); }

  // The merged values: groups ranked by events (largest first), cut to
  // plan.limit; each point and series carries its typed value.
  v1::QueryResponse Typed() const;

  // plan.fn applied: see common/query_fn.h and QueryRequest.fn.
  v1::QueryResponse Finish() const;

 private:
  struct Group {
    std::vector<std::string> label_values;
    std::map<int64_t, v1::Value> buckets;  // bucket index -> merged value
    v1::Value total;
  };

  absl::Status Merge(Group& group, int64_t bucket, const v1::Value& value);
  Group& GroupOf(const std::vector<std::string>& label_values);
  // Groups ranked by `score` (largest first, ties by labels).
  std::vector<const Group*> Ranked(const std::vector<double>& score) const;
  v1::QueryResponse Header() const;
  void AddLabels(const Group& group, v1::Series& series) const;
  int64_t BucketTimeMs(int64_t bucket) const;
  double BucketSeconds() const;
  double RangeSeconds() const;
  v1::QueryResponse FinishTopKeys() const;

  const QueryPlan* plan_;
  absl::flat_hash_map<std::string, Group> groups_;  // by joined label values
};

}  // namespace andon
