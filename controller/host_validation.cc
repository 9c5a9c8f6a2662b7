#include "controller/host_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/labels.h"

namespace andon::controller {
namespace {

constexpr size_t kMaxHostIdLength = 253;  // a DNS name's limit

bool IsHostIdChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

}  // namespace

absl::Status ValidateHostInfo(const v1::HostInfo& info) {
  const std::string& id = info.host_id();
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "host_id is empty; set --host_id or give the host a hostname");
  }
  if (id.size() > kMaxHostIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("host_id is ", id.size(), " characters long; the limit is 253"));
  }
  for (char c : id) {
    if (!IsHostIdChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("host_id '", id, "' contains '", std::string(1, c),
                       "'; use only letters, digits, '.', '_' and '-'"));
    }
  }
  for (const auto& [name, value] : info.labels()) {
    if (!IsValidLabelName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("label name '", name, "' of host '", id,
                       "' is invalid; use letters, digits and '_', not starting with a digit"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateInstanceId(absl::string_view instance_id) {
  if (instance_id.empty()) {
    return absl::InvalidArgumentError(
        "instance_id is empty; an agent must send a random id per process");
  }
  return absl::OkStatus();
}

absl::Status ValidateAggregator(const v1::RegisterAggregatorRequest& request) {
  if (request.id().empty()) return absl::InvalidArgumentError("aggregator id is empty");
  if (request.address().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("aggregator '", request.id(), "' gave no gRPC address"));
  }
  if (request.parent_id() == request.id()) {
    return absl::InvalidArgumentError(
        absl::StrCat("aggregator '", request.id(), "' names itself as its parent"));
  }
  if (!v1::AggregatorRole_IsValid(request.role())) {
    return absl::InvalidArgumentError(
        absl::StrCat("aggregator '", request.id(), "' gave an unknown role ", request.role()));
  }
  return absl::OkStatus();
}

}  // namespace andon::controller
