#include "controller/audit/audit_log.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"

namespace andon::controller {
namespace {

constexpr absl::string_view kPrefix = "audit/";
constexpr uint32_t kDefaultLimit = 100;
constexpr uint32_t kMaxLimit = 10000;

// Zero-padded so that keys sort as their sequences do.
std::string Key(uint64_t sequence) {
  return absl::StrCat(kPrefix, absl::StrFormat("%016d", sequence));
}

bool ParseKey(absl::string_view key, uint64_t* sequence) {
  return absl::ConsumePrefix(&key, kPrefix) && absl::SimpleAtoi(key, sequence);
}

// Returned by a scan callback to end the scan early; not an error.
absl::Status StopScan() { return absl::CancelledError("scan stopped"); }

absl::Status EndOfScan(const absl::Status& s, const absl::Status& stop) {
  return s.code() == stop.code() && s.message() == stop.message() ? absl::OkStatus() : s;
}

// Protobuf JSON with map keys sorted (the JSON printer keeps the binary
// order, which deterministic serialisation sorts), so that the same object
// always reads the same and before and after compare line by line.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message* message) {
  if (message == nullptr) return std::string();
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message->SerializeToCodedStream(&coded);
  }
  constexpr char kTypeUrlPrefix[] = "type.googleapis.com";
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver(
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool()));
  std::string json;
  auto s = google::protobuf::util::BinaryToJsonString(
      resolver.get(), absl::StrCat(kTypeUrlPrefix, "/", message->GetDescriptor()->full_name()),
      binary, &json);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot encode ", message->GetTypeName(),
                     " as JSON for the audit log: ", s.message().as_string()));
  }
  return json;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(KvStore* store, const Clock* clock,
                                                         AuditLogOptions options) {
  std::unique_ptr<AuditLog> log(new AuditLog(store, clock, options));
  ANDON_RETURN_IF_ERROR(log->Load());
  return log;
}

absl::Status AuditLog::Load() {
  absl::MutexLock lock(&mu_);
  uint64_t newest = 0, oldest = 0;
  const absl::Status stop = StopScan();
  auto first_sequence = [&](uint64_t* out) {
    return [&stop, out](absl::string_view key, absl::string_view) {
      return ParseKey(key, out) ? stop : absl::OkStatus();  // skips foreign keys
    };
  };
  ANDON_RETURN_IF_ERROR(EndOfScan(store_->ScanReverse(kPrefix, first_sequence(&newest)), stop));
  ANDON_RETURN_IF_ERROR(EndOfScan(store_->Scan(kPrefix, first_sequence(&oldest)), stop));
  if (newest > 0) {
    next_ = newest + 1;
    oldest_ = std::min(oldest, newest);
  }
  ANDON_LOG(INFO) << "audit log: " << (next_ - oldest_) << " entries, next sequence " << next_;
  return absl::OkStatus();
}

absl::Status AuditLog::Append(absl::string_view who, absl::string_view action,
                              absl::string_view object, const google::protobuf::Message* before,
                              const google::protobuf::Message* after) {
  v1::AuditEntry entry;
  entry.set_who(std::string(who));
  entry.set_action(std::string(action));
  entry.set_object(std::string(object));
  ANDON_ASSIGN_OR_RETURN(*entry.mutable_before(), ToJson(before));
  ANDON_ASSIGN_OR_RETURN(*entry.mutable_after(), ToJson(after));

  absl::MutexLock lock(&mu_);
  entry.set_sequence(next_);
  *entry.mutable_time() = ToProtoTime(clock_->Now());
  ANDON_RETURN_IF_ERROR(store_->Put(Key(next_), entry.SerializeAsString()));
  ++next_;
  // Usually one delete: the entry that fell off the end.
  while (next_ - oldest_ > options_.max_entries) {
    absl::Status s = store_->Delete(Key(oldest_));
    if (!s.ok()) {
      ANDON_LOG(WARNING) << "audit log: cannot delete old entry " << oldest_ << ": " << s;
      break;  // tried again at the next append
    }
    ++oldest_;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListAuditResponse> AuditLog::List(const v1::ListAuditRequest& request) const {
  const uint32_t limit =
      request.limit() == 0 ? kDefaultLimit : std::min(request.limit(), kMaxLimit);
  v1::ListAuditResponse out;
  const absl::Status stop = StopScan();
  absl::Status s =
      store_->ScanReverse(kPrefix, [&](absl::string_view key, absl::string_view value) {
        v1::AuditEntry entry;
        if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          ANDON_LOG(WARNING) << "audit log: skipping unreadable entry '" << key << "'";
          return absl::OkStatus();
        }
        if (!request.object().empty() && entry.object() != request.object())
          return absl::OkStatus();
        *out.add_entries() = std::move(entry);
        return out.entries_size() >= static_cast<int>(limit) ? stop : absl::OkStatus();
      });
  ANDON_RETURN_IF_ERROR(EndOfScan(s, stop));
  return out;
}

size_t AuditLog::size() const {
  absl::MutexLock lock(&mu_);
  return next_ - oldest_;
}

}  // namespace andon::controller
