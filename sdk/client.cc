#include "sdk/client.h"

#include <grpcpp/create_channel.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "common/host_port.h"
#include "common/proto_time.h"

namespace andon::sdk {
namespace {

// Adds which controller was asked to errors where that helps the user.
absl::Status Annotate(const grpc::Status& status, const std::string& address) {
  absl::Status s = FromGrpcStatus(status);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::Status(s.code(), absl::StrCat("controller ", address, ": ", s.message()));
  }
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(absl::string_view controller_address) {
  std::string host;
  int port = 0;
  absl::Status s = SplitHostPort(controller_address, &host, &port);
  if (!s.ok()) return s;
  auto channel = NewChannel(std::string(controller_address), {.keepalive = false});
  return std::unique_ptr<Client>(new Client(std::string(controller_address), std::move(channel)));
}

Client::Client(std::string address, std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      fleet_(v1::Fleet::NewStub(channel_)),
      query_(v1::Query::NewStub(channel_)),
      probes_(v1::Probes::NewStub(channel_)),
      events_(v1::Events::NewStub(channel_)),
      audit_(v1::Audit::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return ctx;
}

absl::StatusOr<v1::ListHostsResponse> Client::ListHosts(absl::string_view selector) {
  v1::ListHostsRequest req;
  req.set_selector(std::string(selector));
  return ListHosts(req);
}

absl::StatusOr<v1::ListHostsResponse> Client::ListHosts(const v1::ListHostsRequest& req) {
  v1::ListHostsResponse resp;
  auto ctx = NewContext();
  grpc::Status st = fleet_->ListHosts(ctx.get(), req, &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

absl::StatusOr<v1::Host> Client::GetHost(absl::string_view host_id) {
  v1::GetHostRequest req;
  req.set_host_id(std::string(host_id));
  v1::Host resp;
  auto ctx = NewContext();
  grpc::Status st = fleet_->GetHost(ctx.get(), req, &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

absl::StatusOr<v1::Host> Client::SetHostLabels(const v1::SetHostLabelsRequest& request) {
  v1::Host resp;
  auto ctx = NewContext();
  grpc::Status st = fleet_->SetHostLabels(ctx.get(), request, &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

absl::StatusOr<v1::ListAggregatorsResponse> Client::ListAggregators() {
  v1::ListAggregatorsResponse resp;
  auto ctx = NewContext();
  grpc::Status st = fleet_->ListAggregators(ctx.get(), v1::ListAggregatorsRequest(), &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

absl::StatusOr<v1::Aggregator> Client::DrainAggregator(absl::string_view id, bool drain) {
  v1::DrainAggregatorRequest req;
  req.set_id(std::string(id));
  req.set_drain(drain);
  v1::Aggregator resp;
  auto ctx = NewContext();
  grpc::Status st = fleet_->DrainAggregator(ctx.get(), req, &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

absl::StatusOr<v1::ListMetricsResponse> Client::ListMetrics() {
  v1::ListMetricsResponse resp;
  auto ctx = NewContext();
  grpc::Status st = query_->ListMetrics(ctx.get(), v1::ListMetricsRequest(), &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

absl::StatusOr<v1::QueryResponse> Client::Query(const v1::QueryRequest& request) {
  v1::QueryResponse resp;
  auto ctx = NewContext();
  grpc::Status st = query_->Query(ctx.get(), request, &resp);
  if (!st.ok()) return Annotate(st, address_);
  return resp;
}

v1::QueryRequest MakeRangeQuery(absl::string_view metric, absl::Time now, absl::Duration range,
                                absl::Duration step) {
  v1::QueryRequest req;
  req.set_metric(std::string(metric));
  // Whole seconds, so one-bucket queries line up with stored windows; with
  // a step of whole seconds the end is on the step's grid (the last bucket
  // is the one still filling), so that aggregators answer from the coarsest
  // stored windows that fit the buckets (10 s, 1 min, 1 h).
  int64_t end_s = absl::ToUnixSeconds(now) + 1;
  const int64_t step_s = absl::ToInt64Seconds(step);
  if (step_s > 0 && absl::Seconds(step_s) == step) end_s = (end_s + step_s - 1) / step_s * step_s;
  absl::Time end = absl::FromUnixSeconds(end_s);
  absl::Time start = end - range;
  *req.mutable_start() = ToProtoTime(start);
  *req.mutable_end() = ToProtoTime(end);
  absl::Duration s = step == absl::ZeroDuration() ? range : step;
  req.mutable_step()->set_seconds(absl::ToInt64Seconds(s));
  req.mutable_step()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(s - absl::Seconds(absl::ToInt64Seconds(s)))));
  return req;
}

void AddEqualMatcher(v1::QueryRequest& request, absl::string_view label, absl::string_view value) {
  auto* m = request.add_matchers();
  m->set_name(std::string(label));
  m->set_op(v1::LabelMatcher::EQ);
  m->set_value(std::string(value));
}

namespace {

template <typename Resp, typename Call>
absl::StatusOr<Resp> Unary(std::unique_ptr<grpc::ClientContext> ctx, Call call) {
  Resp resp;
  grpc::Status st = call(ctx.get(), &resp);
  if (!st.ok()) return FromGrpcStatus(st);
  return resp;
}

}  // namespace

absl::StatusOr<v1::ListCatalogResponse> Client::ProbeCatalog() {
  return Unary<v1::ListCatalogResponse>(NewContext(), [&](auto* ctx, auto* resp) {
    return probes_->ListCatalog(ctx, v1::ListCatalogRequest(), resp);
  });
}

absl::StatusOr<v1::ProbeConfig> Client::PutProbeConfig(const v1::PutProbeConfigRequest& request) {
  return Unary<v1::ProbeConfig>(NewContext(), [&](auto* ctx, auto* resp) {
    return probes_->PutProbeConfig(ctx, request, resp);
  });
}

absl::StatusOr<v1::DeleteProbeConfigResponse> Client::DeleteProbeConfig(absl::string_view name) {
  v1::DeleteProbeConfigRequest request;
  request.set_name(std::string(name));
  return Unary<v1::DeleteProbeConfigResponse>(NewContext(), [&](auto* ctx, auto* resp) {
    return probes_->DeleteProbeConfig(ctx, request, resp);
  });
}

absl::StatusOr<v1::ListProbeConfigsResponse> Client::ListProbeConfigs() {
  return Unary<v1::ListProbeConfigsResponse>(NewContext(), [&](auto* ctx, auto* resp) {
    return probes_->ListProbeConfigs(ctx, v1::ListProbeConfigsRequest(), resp);
  });
}

absl::StatusOr<v1::ProbeConfigStatus> Client::ProbeStatus(absl::string_view name) {
  v1::GetProbeStatusRequest request;
  request.set_name(std::string(name));
  return Unary<v1::ProbeConfigStatus>(NewContext(), [&](auto* ctx, auto* resp) {
    return probes_->GetProbeStatus(ctx, request, resp);
  });
}

absl::StatusOr<v1::TailResponse> Client::TailEvents(const v1::TailRequest& request) {
  return Unary<v1::TailResponse>(
      NewContext(), [&](auto* ctx, auto* resp) { return events_->Tail(ctx, request, resp); });
}

absl::StatusOr<v1::ListAuditResponse> Client::ListAudit(const v1::ListAuditRequest& request) {
  return Unary<v1::ListAuditResponse>(
      NewContext(), [&](auto* ctx, auto* resp) { return audit_->ListAudit(ctx, request, resp); });
}

}  // namespace andon::sdk
