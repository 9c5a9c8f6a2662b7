#include "controller/probes/apply_tracker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace andon::controller {
namespace {

using HostState = v1::ProbeConfigStatus::HostState;

constexpr HostState::State kByRank[3] = {HostState::FAILED, HostState::PENDING, HostState::APPLIED};

// Of a heartbeat's probe states, what decides a verdict: not the counters,
// which move at every heartbeat.
uint64_t AnswersFingerprint(const v1::Heartbeat& heartbeat) {
  uint64_t h = kFnv1aOffset;
  for (const v1::ProbeState& p : heartbeat.probes()) {
    h = Fnv1a(h, p.key());
    h = Fnv1aByte(h, 0);
    h = Fnv1aByte(h, static_cast<unsigned char>(p.state()));
    h = Fnv1a(h, p.message());
    h = Fnv1aByte(h, 0);
  }
  return h;
}

}  // namespace

int ApplyTracker::Rank(State s) {
  return s == HostState::FAILED ? 0 : s == HostState::PENDING ? 1 : 2;
}

ApplyTracker::Verdict ApplyTracker::Judge(const ConfigPlan& plan, uint64_t since,
                                          const HostRecord& record) {
  if (record.applied < since) return {HostState::PENDING, ""};
  if (!plan.conflict.empty()) return {HostState::FAILED, plan.conflict};
  bool all_attached = true;
  for (const std::string& key : plan.keys) {
    const ProbeAnswer* found = nullptr;
    for (const ProbeAnswer& a : record.answers) {
      if (a.key == key) found = &a;
    }
    if (found == nullptr || found->state != v1::ProbeState::ATTACHED) all_attached = false;
    if (found != nullptr && found->state == v1::ProbeState::FAILED) {
      return {HostState::FAILED, absl::StrCat(key, ": ", found->message)};
    }
  }
  return {all_attached ? HostState::APPLIED : HostState::PENDING, ""};
}

std::shared_ptr<const ApplyTracker::Plan> ApplyTracker::Intern(const HostProbes& probes) {
  Plan plan;
  uint64_t fp = kFnv1aOffset;
  for (const std::string& name : probes.configs) {
    ConfigPlan c;
    c.name = name;
    if (auto it = probes.conflicts.find(name); it != probes.conflicts.end())
      c.conflict = it->second;
    for (const v1::ProbeInstance& inst : probes.set.probes()) {
      if (std::find(inst.configs().begin(), inst.configs().end(), name) != inst.configs().end()) {
        c.keys.push_back(inst.key());
      }
    }
    fp = Fnv1aByte(Fnv1a(fp, c.name), 1);
    fp = Fnv1aByte(Fnv1a(fp, c.conflict), 2);
    for (const std::string& k : c.keys) fp = Fnv1aByte(Fnv1a(fp, k), 3);
    plan.push_back(std::move(c));
  }
  std::weak_ptr<const Plan>& slot = plans_[fp];
  std::shared_ptr<const Plan> shared = slot.lock();
  // A fingerprint collision costs only sharing: a differing plan is not shared.
  if (shared == nullptr || shared->size() != plan.size() ||
      !std::equal(shared->begin(), shared->end(), plan.begin(), [](const auto& a, const auto& b) {
        return a.name == b.name && a.conflict == b.conflict && a.keys == b.keys;
      })) {
    shared = std::make_shared<const Plan>(std::move(plan));
    slot = shared;
  }
  return shared;
}

void ApplyTracker::Leave(absl::string_view host_id, const std::string& config, const Verdict& v) {
  auto t = tallies_.find(config);
  if (t == tallies_.end()) return;
  Tally& tally = t->second;
  tally.hosts[Rank(v.state)].erase(host_id);
  if (v.state == HostState::FAILED) {
    auto f = tally.failures.find(v.reason);
    if (f != tally.failures.end()) {
      f->second.erase(host_id);
      if (f->second.empty()) tally.failures.erase(f);
    }
  }
  if (tally.hosts[0].empty() && tally.hosts[1].empty() && tally.hosts[2].empty()) {
    tallies_.erase(t);
  }
}

void ApplyTracker::Join(absl::string_view host_id, const std::string& config, const Verdict& v) {
  Tally& tally = tallies_[config];
  tally.hosts[Rank(v.state)].insert(host_id);
  if (v.state == HostState::FAILED) tally.failures[v.reason].insert(host_id);
}

void ApplyTracker::Withdraw(absl::string_view host_id, const HostRecord& record) {
  if (record.plan == nullptr) return;
  for (size_t i = 0; i < record.verdicts.size(); ++i) {
    Leave(host_id, (*record.plan)[i].name, record.verdicts[i]);
  }
}

void ApplyTracker::Rejudge(absl::string_view host_id, HostRecord& record, const Plan* old_plan,
                           const std::vector<size_t>* old_index,
                           std::vector<Verdict> old_verdicts) {
  const Plan& plan = *record.plan;
  record.verdicts.clear();
  record.verdicts.reserve(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    record.verdicts.push_back(Judge(plan[i], record.since[i], record));
  }
  std::vector<bool> kept(old_plan == nullptr ? 0 : old_plan->size(), false);
  for (size_t i = 0; i < plan.size(); ++i) {
    const size_t j = old_plan == nullptr ? SIZE_MAX : old_index == nullptr ? i : (*old_index)[i];
    if (j != SIZE_MAX && j < old_verdicts.size()) {
      kept[j] = true;
      if (old_verdicts[j] == record.verdicts[i]) continue;
      Leave(host_id, plan[i].name, old_verdicts[j]);
    }
    Join(host_id, plan[i].name, record.verdicts[i]);
  }
  // Configurations that no longer target the host.
  for (size_t j = 0; j < kept.size() && j < old_verdicts.size(); ++j) {
    if (!kept[j]) Leave(host_id, (*old_plan)[j].name, old_verdicts[j]);
  }
}

void ApplyTracker::Pushed(const std::string& host_id, const HostProbes& probes,
                          uint64_t pushed_version) {
  absl::MutexLock lock(&mu_);
  PushedLocked(host_id, Intern(probes), pushed_version);
}

void ApplyTracker::PushedAll(const std::vector<PushedHost>& hosts) {
  absl::MutexLock lock(&mu_);
  const HostProbes* last = nullptr;
  std::shared_ptr<const Plan> plan;
  for (const PushedHost& h : hosts) {
    if (h.probes != last) {
      plan = Intern(*h.probes);
      last = h.probes;
    }
    PushedLocked(*h.host_id, plan, h.pushed_version);
  }
}

void ApplyTracker::PushedLocked(absl::string_view host_id, std::shared_ptr<const Plan> plan,
                                uint64_t pushed_version) {
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) it = hosts_.try_emplace(std::string(host_id)).first;
  HostRecord& record = it->second;
  // The verdicts follow from the plan, the versions and the answers: a walk
  // that changed neither for the host changes nothing.
  if (record.plan == plan && record.pushed == pushed_version) return;
  // An entry the new set leaves as it was keeps the version it changed at;
  // a new or changed one waits for this push.
  // Where each entry was in the old plan (by configuration; plans are a few
  // entries long), SIZE_MAX for a new one.
  std::vector<uint64_t> since(plan->size(), pushed_version);
  std::vector<size_t> old_index(plan->size(), SIZE_MAX);
  if (record.plan != nullptr) {
    for (size_t i = 0; i < plan->size(); ++i) {
      const ConfigPlan& entry = (*plan)[i];
      for (size_t j = 0; j < record.plan->size(); ++j) {
        const ConfigPlan& was = (*record.plan)[j];
        if (was.name != entry.name) continue;
        old_index[i] = j;
        if (was.conflict == entry.conflict && was.keys == entry.keys) {
          since[i] = std::min(record.since[j], pushed_version);
        }
        break;
      }
    }
  }
  std::shared_ptr<const Plan> old_plan = std::move(record.plan);
  record.plan = std::move(plan);
  record.since = std::move(since);
  record.pushed = pushed_version;
  Rejudge(it->first, record, old_plan.get(), &old_index, std::move(record.verdicts));
}

void ApplyTracker::Heartbeat(const std::string& host_id, const v1::Heartbeat& heartbeat) {
  const uint64_t fp = AnswersFingerprint(heartbeat);
  const uint64_t applied = heartbeat.applied_config_version();
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) return;
  HostRecord& record = it->second;
  if (record.applied == applied && record.answers_fp == fp) return;
  record.applied = applied;
  record.answers_fp = fp;
  record.answers.clear();
  for (const v1::ProbeState& p : heartbeat.probes()) {
    record.answers.push_back({p.key(), p.state(), p.message()});
  }
  Rejudge(it->first, record, record.plan.get(), /*old_index=*/nullptr, std::move(record.verdicts));
}

void ApplyTracker::Forget(const std::string& host_id) {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(host_id);
  if (it == hosts_.end()) return;
  Withdraw(it->first, it->second);
  hosts_.erase(it);
}

void ApplyTracker::Synced(uint64_t configs_version) {
  absl::MutexLock lock(&mu_);
  synced_ = std::max(synced_, configs_version);
  for (auto it = plans_.begin(); it != plans_.end();) {
    it = it->second.expired() ? plans_.erase(it) : std::next(it);
  }
}

v1::ProbeConfigStatus ApplyTracker::Status(const v1::ProbeConfig& config,
                                           const Registry& registry) const {
  v1::ProbeConfigStatus out;
  out.set_name(config.name());
  out.set_version(config.version());
  struct Listed {
    std::string host_id;
    State state;
    std::vector<std::string> keys;
  };
  std::vector<Listed> listed;
  {
    absl::MutexLock lock(&mu_);
    auto t = tallies_.find(config.name());
    if (t == tallies_.end()) return out;
    const Tally& tally = t->second;
    const size_t total = tally.hosts[0].size() + tally.hosts[1].size() + tally.hosts[2].size();
    out.set_hosts_targeted(static_cast<uint32_t>(total));
    auto keys_of = [&](const std::string& id) {
      auto h = hosts_.find(id);
      if (h == hosts_.end()) return std::vector<std::string>{};
      for (const ConfigPlan& c : *h->second.plan) {
        if (c.name == config.name()) return c.keys;
      }
      return std::vector<std::string>{};
    };
    if (config.version() > synced_) {
      // Not pushed yet: every host is pending, listed by id.
      out.set_hosts_pending(static_cast<uint32_t>(total));
      std::vector<std::string> ids;
      for (const auto& set : tally.hosts) {
        size_t n = 0;
        for (auto id = set.begin(); id != set.end() && n < kMaxHostsListed; ++id, ++n) {
          ids.emplace_back(*id);
        }
      }
      std::sort(ids.begin(), ids.end());
      if (ids.size() > kMaxHostsListed) ids.resize(kMaxHostsListed);
      for (std::string& id : ids) listed.push_back({id, HostState::PENDING, keys_of(id)});
    } else {
      out.set_hosts_failed(static_cast<uint32_t>(tally.hosts[0].size()));
      out.set_hosts_pending(static_cast<uint32_t>(tally.hosts[1].size()));
      out.set_hosts_applied(static_cast<uint32_t>(tally.hosts[2].size()));
      std::vector<const std::pair<const std::string, HostSet>*> reasons;
      for (const auto& entry : tally.failures) reasons.push_back(&entry);
      std::sort(reasons.begin(), reasons.end(), [](const auto* a, const auto* b) {
        return a->second.size() != b->second.size() ? a->second.size() > b->second.size()
                                                    : a->first < b->first;
      });
      for (const auto* r : reasons) {
        v1::ProbeConfigStatus::Failure* f = out.add_failures();
        f->set_reason(r->first);
        f->set_hosts(static_cast<uint32_t>(r->second.size()));
        for (absl::string_view id : r->second) {
          if (f->example_hosts_size() >= kMaxExampleHosts) break;
          f->add_example_hosts(std::string(id));
        }
      }
      for (int rank = 0; rank < 3 && listed.size() < kMaxHostsListed; ++rank) {
        for (absl::string_view id : tally.hosts[rank]) {
          if (listed.size() >= kMaxHostsListed) break;
          listed.push_back({std::string(id), kByRank[rank], keys_of(std::string(id))});
        }
      }
    }
  }
  // The probes' states (with their counters) from the registry, outside the
  // tracker's lock.
  for (Listed& l : listed) {
    HostState* state = out.add_hosts();
    state->set_host_id(l.host_id);
    state->set_state(l.state);
    absl::StatusOr<v1::Host> host = registry.GetHost(l.host_id);
    if (!host.ok()) continue;
    for (const std::string& key : l.keys) {
      for (const v1::ProbeState& p : host->last_heartbeat().probes()) {
        if (p.key() == key) *state->add_probes() = p;
      }
    }
  }
  return out;
}

}  // namespace andon::controller
