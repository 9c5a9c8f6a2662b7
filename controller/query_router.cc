#include "controller/query_router.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "common/metric_catalog.h"
#include "common/query_plan.h"
#include "controller/query_merge.h"

namespace andon::controller {
namespace {

// One fanned-out query: shared by the per-aggregator callbacks; the last one
// to finish merges and reports.
struct FanOut {
  v1::QueryRequest request;  // as sent to each aggregator
  QueryPlan plan;            // the caller's, applied after merging
  bool merge = false;        // answers are typed, to merge here
  std::vector<v1::AggregatorRef> targets;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::QueryResponse> responses;
  std::vector<absl::Status> statuses;
  std::atomic<int> pending{0};
  QueryRouter::Done done;
};

std::string Who(const v1::AggregatorRef& target) {
  return absl::StrCat("aggregator '", target.id(), "' at ", target.address());
}

// Every aggregator answered or failed: merges what came, flags what did not
// (a partial answer), and fails only when nothing came.
void Finish(FanOut& f) {
  std::vector<const v1::QueryResponse*> answers;
  std::vector<std::string> missing;
  absl::Status first_error;
  for (size_t i = 0; i < f.targets.size(); ++i) {
    const absl::Status& s = f.statuses[i];
    if (s.ok()) {
      answers.push_back(&f.responses[i]);
      continue;
    }
    // A bad query fails everywhere alike: that is the caller's error, not a
    // missing aggregator.
    if (s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kNotFound) {
      f.done(s);
      return;
    }
    absl::StatusCode code =
        s.code() == absl::StatusCode::kDeadlineExceeded ? absl::StatusCode::kUnavailable : s.code();
    if (first_error.ok())
      first_error = absl::Status(code, absl::StrCat(Who(f.targets[i]), ": ", s.message()));
    missing.push_back(absl::StrCat(Who(f.targets[i]), ": ", s.message()));
  }
  if (answers.empty()) {
    f.done(first_error);
    return;
  }
  absl::StatusOr<v1::QueryResponse> out = f.merge ? MergeTypedResponses(f.plan, answers)
                                                  : absl::StatusOr<v1::QueryResponse>(*answers[0]);
  if (!out.ok()) {
    f.done(absl::InternalError(
        absl::StrCat("merging the aggregators' answers: ", out.status().message())));
    return;
  }
  if (!missing.empty()) {
    out->set_partial(true);
    for (std::string& m : missing) out->add_missing(std::move(m));
  }
  f.done(std::move(out));
}

}  // namespace

QueryRouter::QueryRouter(const Registry* registry, const MetricCatalog* catalog, const Clock* clock,
                         ControllerMetrics* metrics, absl::Duration call_deadline)
    : registry_(registry),
      catalog_(catalog),
      clock_(clock),
      metrics_(metrics),
      call_deadline_(call_deadline),
      forward_rules_(registry->options().forward_rules) {}

std::vector<v1::AggregatorRef> QueryRouter::Targets(const v1::QueryRequest& request) const {
  for (const auto& m : request.matchers()) {
    if (m.name() == "host" && m.op() == v1::LabelMatcher::EQ) {
      std::vector<v1::AggregatorRef> holding = registry_->AggregatorsOfHost(m.value());
      if (!holding.empty()) return holding;
      break;  // unknown host or its aggregator died: ask every leaf
    }
  }
  // A label that forwarding drops is only at the leaves; otherwise the top
  // of the tree holds the fleet-wide series, already reduced.
  bool needs_leaves = false;
  for (const auto& m : request.matchers()) {
    needs_leaves = needs_leaves || !forward_rules_.Keeps(request.metric(), m.name());
  }
  for (const std::string& l : request.group_by()) {
    needs_leaves = needs_leaves || !forward_rules_.Keeps(request.metric(), l);
  }
  return needs_leaves ? registry_->LiveAggregators() : registry_->TreeTops();
}

std::shared_ptr<v1::Query::Stub> QueryRouter::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    stub = v1::Query::NewStub(NewChannel(address));
  }
  return stub;
}

void QueryRouter::QueryAsync(const v1::QueryRequest& request, Done done) {
  absl::Time start = clock_->Now();
  Done report = [this, start, done = std::move(done)](absl::StatusOr<v1::QueryResponse> r) {
    metrics_->CountQuery(r.status(), clock_->Now() - start);
    done(std::move(r));
  };
  // Checked here too, so a bad query gets its clear error with no aggregator up.
  absl::StatusOr<QueryPlan> plan = PlanQuery(request, *catalog_);
  if (!plan.ok()) return report(plan.status());
  std::vector<v1::AggregatorRef> targets = Targets(request);
  if (targets.empty()) {
    return report(absl::UnavailableError(
        "no live aggregator to answer the query; start andon-aggregator with --controller "
        "pointing at this controller"));
  }
  auto fan = std::make_shared<FanOut>();
  fan->request = request;
  fan->plan = *std::move(plan);
  fan->targets = std::move(targets);
  size_t n = fan->targets.size();
  // One aggregator answers the query itself; several answer with typed
  // values that are merged here before the function is applied, so that
  // quantiles and top-k over the fleet are those of the merged data.
  fan->merge = n > 1 || request.typed();
  if (fan->merge) fan->request.set_typed(true);
  if (n > 1) {
    // Each aggregator truncates to the limit on its own share: a group just
    // below the cut on one of them would lose that share of its total. Ask
    // each for more groups than the caller wants; ranks and totals are then
    // exact unless a group is far down the list on some aggregators.
    const uint32_t limit = fan->plan.limit;
    fan->request.set_limit(
        std::min<uint32_t>(std::max(limit * 4, limit + 100), 10 * kDefaultSeriesLimit));
  }
  fan->responses.resize(n);
  fan->statuses.resize(n);
  fan->pending = static_cast<int>(n);
  fan->done = std::move(report);
  for (size_t i = 0; i < n; ++i) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    // gRPC deadlines are real time whatever clock the router was given.
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(call_deadline_));
    fan->contexts.push_back(std::move(ctx));
  }
  for (size_t i = 0; i < n; ++i) {
    StubFor(fan->targets[i].address())
        ->async()
        ->Query(fan->contexts[i].get(), &fan->request, &fan->responses[i],
                [fan, i](grpc::Status status) {
                  fan->statuses[i] = FromGrpcStatus(status);
                  if (--fan->pending == 0) {
                    Finish(*fan);
                    fan->done = nullptr;  // drops the captures now, not when `fan` dies
                  }
                });
  }
}

absl::StatusOr<v1::QueryResponse> QueryRouter::Query(const v1::QueryRequest& request) {
  absl::Notification finished;
  absl::StatusOr<v1::QueryResponse> result;
  QueryAsync(request, [&](absl::StatusOr<v1::QueryResponse> r) {
    result = std::move(r);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

v1::ListMetricsResponse QueryRouter::ListMetrics() const {
  v1::ListMetricsResponse out;
  for (const auto& m : catalog_->List()) *out.add_metrics() = m;
  return out;
}

}  // namespace andon::controller
