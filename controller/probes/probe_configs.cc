#include "controller/probes/probe_configs.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/probe_spec.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace andon::controller {
namespace {

constexpr absl::string_view kConfigPrefix = "pc/";
constexpr absl::string_view kMetricPrefix = "pm/";
constexpr char kVersionKey[] = "pv";
constexpr int kMaxConfigs = 1000;
constexpr int kMaxProbesPerConfig = 16;

using google::protobuf::util::TimeUtil;

std::string ConfigKey(absl::string_view name) { return absl::StrCat(kConfigPrefix, name); }

v1::PutProbeConfigRequest DefaultConfig() {
  v1::PutProbeConfigRequest r;
  r.set_name("default");
  for (const char* p : {"hostmetrics", "syscalls", "exec"}) r.add_probes()->set_probe(p);
  return r;
}

// Instances are compared by what they run, not by which configurations ask.
std::string RunsAs(v1::ProbeInstance instance) {
  instance.clear_configs();
  return instance.SerializeAsString();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProbeConfigs>> ProbeConfigs::Open(KvStore* store, const Clock* clock,
                                                                 MetricCatalog* catalog,
                                                                 AuditLog* audit) {
  std::unique_ptr<ProbeConfigs> configs(new ProbeConfigs(store, clock, catalog, audit));
  ANDON_RETURN_IF_ERROR(configs->Load());
  return configs;
}

absl::Status ProbeConfigs::Load() {
  bool have_version = false;
  {
    absl::MutexLock lock(&mu_);
    ANDON_RETURN_IF_ERROR(
        store_->Scan(kVersionKey, [&](absl::string_view key, absl::string_view value) {
          if (key == kVersionKey && absl::SimpleAtoi(value, &version_)) have_version = true;
          return absl::OkStatus();
        }));
    ANDON_RETURN_IF_ERROR(
        store_->Scan(kConfigPrefix, [&](absl::string_view key, absl::string_view value) {
          v1::ProbeConfig c;
          if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            ANDON_LOG(WARNING) << "skipping unreadable probe configuration '" << key << "'";
            return absl::OkStatus();
          }
          configs_[c.name()] = std::move(c);
          return absl::OkStatus();
        }));
    ANDON_RETURN_IF_ERROR(
        store_->Scan(kMetricPrefix, [&](absl::string_view key, absl::string_view value) {
          v1::MetricInfo m;
          if (m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            catalog_->Declare(m).IgnoreError();
          }
          return absl::OkStatus();
        }));
  }
  if (!have_version) {
    ANDON_LOG(INFO) << "new cluster: creating probe configuration 'default' (hostmetrics, "
                       "syscalls, exec on every host)";
    ANDON_RETURN_IF_ERROR(Put(DefaultConfig(), "controller").status());
  }
  absl::MutexLock lock(&mu_);
  ANDON_LOG(INFO) << "loaded " << configs_.size() << " probe configurations at version "
                  << version_;
  return absl::OkStatus();
}

absl::StatusOr<v1::ProbeConfig> ProbeConfigs::Build(const v1::PutProbeConfigRequest& req) const {
  ANDON_RETURN_IF_ERROR(ValidateConfigName(req.name()));
  if (req.probes_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("configuration '", req.name(),
                                                   "' names no probe; give a catalog probe "
                                                   "(andonctl probes catalog) or a generic one"));
  }
  if (req.probes_size() > kMaxProbesPerConfig) {
    return absl::InvalidArgumentError(
        absl::StrCat("a configuration holds at most ", kMaxProbesPerConfig, " probes"));
  }
  v1::ProbeConfig c;
  c.set_name(req.name());
  for (const v1::ProbeSpec& spec : req.probes()) {
    if (IsGenericProbeName(spec.probe()) && req.probes_size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("a generic probe (", spec.probe(),
                       ") must be alone in its configuration, whose name is its metric's name"));
    }
    ANDON_ASSIGN_OR_RETURN(v1::ProbeInstance inst, ResolveProbeSpec(req.name(), spec));
    for (const v1::ProbeInstance& other : c.resolved()) {
      if (other.key() == inst.key()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "probe '", inst.key(), "' is named twice in configuration '", req.name(), "'"));
      }
    }
    *c.add_probes() = spec;
    *c.add_resolved() = std::move(inst);
  }
  if (!req.selector().empty() && req.target().matchers_size() > 0) {
    return absl::InvalidArgumentError(
        "give the selector either as text (selector) or as a message (target), not both");
  }
  if (!req.selector().empty()) {
    ANDON_ASSIGN_OR_RETURN(*c.mutable_target(), ParseSelector(req.selector()));
  } else {
    ANDON_RETURN_IF_ERROR(ValidateSelector(req.target()));
    *c.mutable_target() = req.target();
  }
  if (req.target().fraction() > 0) c.mutable_target()->set_fraction(req.target().fraction());
  c.set_selector_text(SelectorText(c.target()));
  if (req.has_ttl()) {
    absl::Duration ttl = absl::Seconds(req.ttl().seconds()) + absl::Nanoseconds(req.ttl().nanos());
    if (ttl < absl::ZeroDuration() || (ttl > absl::ZeroDuration() && ttl < absl::Seconds(1)) ||
        ttl > absl::Hours(24 * 365)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ttl ", absl::FormatDuration(ttl), " must be 0 (none) or between 1s and 365 days"));
    }
    if (ttl > absl::ZeroDuration()) *c.mutable_ttl() = req.ttl();
  }
  return c;
}

absl::StatusOr<v1::ProbeConfig> ProbeConfigs::Put(const v1::PutProbeConfigRequest& request,
                                                  absl::string_view who) {
  ANDON_ASSIGN_OR_RETURN(v1::ProbeConfig config, Build(request));
  // A generic probe's metric must keep its kind: its stored data has it.
  std::vector<v1::MetricInfo> metrics;
  for (const v1::ProbeInstance& inst : config.resolved()) {
    if (!inst.has_generic()) continue;
    v1::MetricInfo m = GenericProbeMetric(inst.generic());
    absl::StatusOr<v1::MetricInfo> known = catalog_->Lookup(m.name());
    if (known.ok() && known->kind() != m.kind()) {
      return absl::FailedPreconditionError(
          absl::StrCat("metric '", m.name(), "' already holds ", v1::MetricKind_Name(known->kind()),
                       " data from an earlier configuration of that name; this probe would make "
                       "it a ",
                       v1::MetricKind_Name(m.kind()), ": choose another name"));
    }
    metrics.push_back(std::move(m));
  }
  absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = configs_.find(config.name());
    if (it != configs_.end() && !request.replace()) {
      return absl::AlreadyExistsError(
          absl::StrCat("probe configuration '", config.name(), "' exists (version ",
                       it->second.version(), "); disable it first, or replace it (replace=true)"));
    }
    if (it == configs_.end() && request.replace()) {
      return absl::NotFoundError(
          absl::StrCat("no probe configuration '", config.name(), "' to replace"));
    }
    if (request.expected_version() != 0 &&
        (it == configs_.end() || it->second.version() != request.expected_version())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "probe configuration '", config.name(), "' is at version ",
          it == configs_.end() ? 0 : it->second.version(), ", not ", request.expected_version(),
          "; someone changed it: read it again and retry"));
    }
    if (it == configs_.end() && configs_.size() >= kMaxConfigs) {
      return absl::ResourceExhaustedError(
          absl::StrCat("at most ", kMaxConfigs, " probe configurations; delete unused ones"));
    }
    *config.mutable_created() = it != configs_.end() ? it->second.created() : ToProtoTime(now);
    *config.mutable_updated() = ToProtoTime(now);
    if (config.has_ttl()) {
      absl::Duration ttl =
          absl::Seconds(config.ttl().seconds()) + absl::Nanoseconds(config.ttl().nanos());
      *config.mutable_expires() = ToProtoTime(now + ttl);
    }
    config.set_changed_by(std::string(who));
    for (const v1::MetricInfo& m : metrics) {
      ANDON_RETURN_IF_ERROR(
          store_->Put(absl::StrCat(kMetricPrefix, m.name()), m.SerializeAsString()));
      catalog_->Declare(m).IgnoreError();
    }
    const uint64_t version = version_ + 1;
    config.set_version(version);
    ANDON_RETURN_IF_ERROR(StoreConfig(config, version));
    if (it == configs_.end()) {
      Audit(who, kAuditProbesEnable, config.name(), nullptr, &config);
      configs_[config.name()] = config;
    } else {
      Audit(who, kAuditProbesUpdate, config.name(), &it->second, &config);
      it->second = config;
    }
  }
  ANDON_LOG(INFO) << "probe configuration '" << config.name() << "' set to version "
                  << config.version() << " by " << who << " (" << config.selector_text() << ")";
  Changed();
  return config;
}

absl::Status ProbeConfigs::StoreConfig(const v1::ProbeConfig& config, uint64_t version) {
  // The version is written last: a crash between leaves a configuration whose
  // version is above the stored counter, which Load() would reuse; so write
  // the counter first. Either order is safe for agents, which compare sets.
  ANDON_RETURN_IF_ERROR(store_->Put(kVersionKey, absl::StrCat(version)));
  version_ = version;
  return store_->Put(ConfigKey(config.name()), config.SerializeAsString());
}

absl::Status ProbeConfigs::DeleteLocked(absl::string_view name) {
  const uint64_t version = version_ + 1;
  ANDON_RETURN_IF_ERROR(store_->Put(kVersionKey, absl::StrCat(version)));
  version_ = version;
  ANDON_RETURN_IF_ERROR(store_->Delete(ConfigKey(name)));
  configs_.erase(configs_.find(name));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ProbeConfigs::Delete(absl::string_view name, uint64_t expected_version,
                                              absl::string_view who) {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = configs_.find(name);
    if (it == configs_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no probe configuration '", name, "'; andonctl probes list shows them"));
    }
    if (expected_version != 0 && it->second.version() != expected_version) {
      return absl::FailedPreconditionError(
          absl::StrCat("probe configuration '", name, "' is at version ", it->second.version(),
                       ", not ", expected_version, "; read it again and retry"));
    }
    const v1::ProbeConfig before = it->second;
    ANDON_RETURN_IF_ERROR(DeleteLocked(name));
    version = version_;
    Audit(who, kAuditProbesDisable, name, &before, nullptr);
  }
  ANDON_LOG(INFO) << "probe configuration '" << name << "' deleted (version " << version << ")";
  Changed();
  return version;
}

std::vector<std::string> ProbeConfigs::ExpireDue() {
  std::vector<std::string> expired;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_->Now();
    std::vector<std::string> due;
    for (const auto& [name, c] : configs_) {
      if (c.has_expires() && FromProtoTime(c.expires()) <= now) due.push_back(name);
    }
    for (const std::string& name : due) {
      const v1::ProbeConfig before = configs_.find(name)->second;
      absl::Status s = DeleteLocked(name);
      if (!s.ok()) {
        ANDON_LOG(WARNING) << "cannot expire probe configuration '" << name << "': " << s;
        continue;
      }
      ANDON_LOG(INFO) << "probe configuration '" << name << "' expired (its ttl ran out)";
      Audit(kAuditByController, kAuditProbesExpire, name, &before, nullptr);
      expired.push_back(name);
    }
  }
  if (!expired.empty()) Changed();
  return expired;
}

void ProbeConfigs::Audit(absl::string_view who, absl::string_view action, absl::string_view name,
                         const v1::ProbeConfig* before, const v1::ProbeConfig* after) {
  if (audit_ == nullptr) return;
  // The change is applied and stays so: an audit log that cannot be written
  // must not turn it into an error the caller would retry.
  absl::Status s = audit_->Append(who, action, name, before, after);
  if (!s.ok()) {
    ANDON_LOG(ERROR) << "audit log: cannot record " << action << " of '" << name << "' by " << who
                     << ": " << s;
  }
}

void ProbeConfigs::Changed() {
  if (on_change_) on_change_();
}

absl::StatusOr<v1::ProbeConfig> ProbeConfigs::Get(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = configs_.find(name);
  if (it == configs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no probe configuration '", name, "'; andonctl probes list shows them"));
  }
  return it->second;
}

v1::ListProbeConfigsResponse ProbeConfigs::List() const {
  absl::MutexLock lock(&mu_);
  v1::ListProbeConfigsResponse out;
  for (const auto& [name, c] : configs_) *out.add_configs() = c;
  out.set_version(version_);
  return out;
}

uint64_t ProbeConfigs::version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

bool ProbeConfigs::SelectsByLabelsOnly() const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, c] : configs_) {
    if (c.target().fraction() > 0) return false;
    for (const v1::LabelMatcher& m : c.target().matchers()) {
      if (m.name() == "host") return false;
    }
  }
  return true;
}

HostProbes ProbeConfigs::ForHost(
    absl::string_view host_id,
    const google::protobuf::Map<std::string, std::string>& labels) const {
  absl::MutexLock lock(&mu_);
  std::vector<const v1::ProbeConfig*> ordered;
  for (const auto& [name, c] : configs_) ordered.push_back(&c);
  // Oldest first, so the configuration that asked first for a built-in wins.
  std::sort(ordered.begin(), ordered.end(), [](const v1::ProbeConfig* a, const v1::ProbeConfig* b) {
    if (a->created().seconds() != b->created().seconds()) {
      return a->created().seconds() < b->created().seconds();
    }
    if (a->created().nanos() != b->created().nanos()) {
      return a->created().nanos() < b->created().nanos();
    }
    return a->name() < b->name();
  });
  HostProbes out;
  out.set.set_version(version_);
  for (const v1::ProbeConfig* c : ordered) {
    if (!SelectorMatches(c->target(), host_id, labels)) continue;
    out.configs.push_back(c->name());
    for (const v1::ProbeInstance& inst : c->resolved()) {
      v1::ProbeInstance* existing = nullptr;
      for (v1::ProbeInstance& e : *out.set.mutable_probes()) {
        if (e.key() == inst.key()) existing = &e;
      }
      if (existing == nullptr) {
        *out.set.add_probes() = inst;
      } else if (RunsAs(*existing) == RunsAs(inst)) {
        existing->add_configs(c->name());
      } else {
        out.conflicts[c->name()] =
            absl::StrCat("probe '", inst.key(), "' already runs on this host for configuration '",
                         existing->configs(0), "' with other parameters");
      }
    }
  }
  return out;
}

}  // namespace andon::controller
