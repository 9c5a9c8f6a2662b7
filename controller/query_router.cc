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
  uint32_t limit = 0;        // the caller's, applied after merging
  std::vector<v1::AggregatorRef> targets;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::QueryResponse> responses;
  std::vector<absl::Status> statuses;
  std::atomic<int> pending{0};
  QueryRouter::Done done;
};

void Finish(FanOut& f) {
  for (size_t i = 0; i < f.targets.size(); ++i) {
    const absl::Status& s = f.statuses[i];
    if (s.ok()) continue;
    absl::StatusCode code =
        s.code() == absl::StatusCode::kDeadlineExceeded ? absl::StatusCode::kUnavailable : s.code();
    f.done(absl::Status(code, absl::StrCat("aggregator '", f.targets[i].id(), "' at ",
                                           f.targets[i].address(), ": ", s.message())));
    return;
  }
  f.done(MergeQueryResponses(f.responses, f.limit));
}

}  // namespace

QueryRouter::QueryRouter(const Registry* registry, const MetricCatalog* catalog, const Clock* clock,
                         ControllerMetrics* metrics, absl::Duration call_deadline)
    : registry_(registry),
      catalog_(catalog),
      clock_(clock),
      metrics_(metrics),
      call_deadline_(call_deadline) {}

std::vector<v1::AggregatorRef> QueryRouter::Targets(const v1::QueryRequest& request) const {
  for (const auto& m : request.matchers()) {
    if (m.name() == "host" && m.op() == v1::LabelMatcher::EQ) {
      std::vector<v1::AggregatorRef> holding = registry_->AggregatorsOfHost(m.value());
      if (!holding.empty()) return holding;
      break;  // unknown host or its aggregator died: ask everyone
    }
  }
  return registry_->LiveAggregators();
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
  fan->limit = plan->limit;
  fan->targets = std::move(targets);
  size_t n = fan->targets.size();
  if (n > 1) {
    // Each aggregator truncates to the limit on its own share: a group just
    // below the cut on one of them would lose that share of its total. Ask
    // each for more groups than the caller wants; ranks and totals are then
    // exact unless a group is far down the list on some aggregators.
    fan->request.set_limit(
        std::min<uint32_t>(std::max(plan->limit * 4, plan->limit + 100), 10 * kDefaultSeriesLimit));
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
