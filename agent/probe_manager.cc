#include "agent/probe_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace andon::agent {
namespace {

std::string SpecOf(v1::ProbeInstance instance) {
  instance.clear_configs();
  return instance.SerializeAsString();
}

}  // namespace

void ProbeManager::SetDesired(v1::ProbeSet set) {
  absl::MutexLock lock(&desired_mu_);
  desired_ = std::move(set);
  dirty_ = true;
}

void ProbeManager::Start(const v1::ProbeInstance& instance, Running& r) {
  r.spec = SpecOf(instance);
  r.probe.reset();
  r.failed.Clear();
  r.retry_at = absl::InfiniteFuture();
  absl::StatusOr<std::unique_ptr<Probe>> created = factory_(instance);
  if (!created.ok()) {
    r.failed.set_key(instance.key());
    r.failed.set_state(v1::ProbeState::FAILED);
    r.failed.set_message(std::string(created.status().message()));
    ANDON_LOG(WARNING) << "probe '" << instance.key() << "' cannot run: " << created.status();
    return;
  }
  r.probe = std::move(*created);
  absl::Status s = r.probe->Init();
  if (s.ok()) {
    ANDON_LOG(INFO) << "probe '" << instance.key() << "' attached ("
                    << r.probe->status().attach_point() << ")";
  } else {
    ANDON_LOG(WARNING) << "probe '" << instance.key() << "' failed to attach: " << s;
    r.retry_at = clock_->Now() + retry_;
  }
}

void ProbeManager::Reconcile() {
  v1::ProbeSet desired;
  bool changed = false;
  {
    absl::MutexLock lock(&desired_mu_);
    if (dirty_) {
      desired = desired_;
      dirty_ = false;
      changed = true;
    }
  }
  const absl::Time now = clock_->Now();
  // Creating probes loads BPF programs, which takes a while: do it outside
  // mu_ so heartbeats can still read the states, then publish under mu_.
  // Only this thread writes running_, so reading it unlocked here is safe.
  std::map<std::string, Running> next;
  std::map<std::string, v1::ProbeInstance> applied;
  if (changed) {
    std::map<std::string, Running> old;
    {
      absl::MutexLock lock(&mu_);
      old.swap(running_);
    }
    for (const v1::ProbeInstance& inst : desired.probes()) {
      applied[inst.key()] = inst;
      auto it = old.find(inst.key());
      if (it != old.end() && it->second.spec == SpecOf(inst)) {
        next[inst.key()] = std::move(it->second);  // unchanged: untouched
        old.erase(it);
      }
    }
    for (auto& [key, r] : old) {  // gone or changed
      if (r.probe) {
        r.probe->Stop();
        ANDON_LOG(INFO) << "probe '" << key << "' detached";
      }
    }
    old.clear();
    for (const v1::ProbeInstance& inst : desired.probes()) {
      if (next.count(inst.key()) == 0) Start(inst, next[inst.key()]);
    }
    {
      absl::MutexLock lock(&mu_);
      running_ = std::move(next);
      applied_ = std::move(applied);
      applied_version_ = desired.version();
    }
    if (on_applied_) on_applied_();
    return;
  }
  // Retry probes that failed to attach, one at a time per tick.
  std::string due;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, r] : running_) {
      if (r.retry_at <= now) {
        due = key;
        break;
      }
    }
  }
  if (due.empty()) return;
  v1::ProbeInstance inst;
  {
    absl::MutexLock lock(&mu_);
    inst = applied_[due];
  }
  Running fresh;
  Start(inst, fresh);
  absl::MutexLock lock(&mu_);
  running_[due] = std::move(fresh);
}

void ProbeManager::Collect(absl::Time sample_time, WindowAccumulator& acc) {
  // The loop thread is the only writer of running_; probes collect unlocked.
  for (auto& [key, r] : running_) {
    if (r.probe) r.probe->Collect(sample_time, acc).IgnoreError();
  }
}

void ProbeManager::StopAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [key, r] : running_) {
    if (r.probe) r.probe->Stop();
  }
}

uint64_t ProbeManager::AppliedVersion() const {
  absl::MutexLock lock(&mu_);
  return applied_version_;
}

void ProbeManager::SetFolded(std::map<std::string, uint64_t> folded, size_t budget) {
  absl::MutexLock lock(&mu_);
  folded_ = std::move(folded);
  series_budget_ = budget;
}

std::vector<v1::ProbeState> ProbeManager::States() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ProbeState> out;
  for (const auto& [key, r] : running_) {
    v1::ProbeState s = r.probe ? r.probe->status() : r.failed;
    if (r.probe) {
      uint64_t folded = 0;
      for (const v1::MetricInfo& m : r.probe->Metrics()) {
        auto it = folded_.find(m.name());
        if (it != folded_.end()) folded += it->second;
      }
      if (folded > 0) {
        s.set_budget_folded(s.budget_folded() + folded);
        if (s.budget_reason().empty()) {
          s.set_budget_reason(absl::StrCat("over the series budget of ", series_budget_,
                                           " per metric per window: the rest folded into "
                                           "comm=\"other\""));
        }
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<v1::MetricInfo> ProbeManager::Metrics() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::MetricInfo> out;
  for (const auto& [key, r] : running_) {
    if (r.probe) {
      for (v1::MetricInfo& m : r.probe->Metrics()) out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<v1::Event> ProbeManager::NewEvents(const std::vector<std::string>& types, size_t max,
                                               uint64_t* lost) {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Event> out;
  *lost = 0;
  std::map<const Probe*, uint64_t> cursors;
  for (const auto& [key, r] : running_) {
    if (!r.probe) continue;
    uint64_t& cursor = cursors[r.probe.get()];
    auto it = event_cursors_.find(r.probe.get());
    cursor = it != event_cursors_.end() ? it->second : 0;
    std::vector<v1::Event> events;
    uint64_t overrun = 0;
    cursor = r.probe->EventsSince(cursor, Probe::kMaxRecentEvents, &events, &overrun);
    *lost += overrun;
    for (v1::Event& e : events) {
      if (!types.empty() && std::find(types.begin(), types.end(), e.type()) == types.end()) {
        continue;
      }
      if (out.size() >= max) {
        ++*lost;
        continue;
      }
      out.push_back(std::move(e));
    }
  }
  event_cursors_ = std::move(cursors);  // forgets probes that are gone
  std::sort(out.begin(), out.end(),
            [](const v1::Event& a, const v1::Event& b) { return a.time_ns() < b.time_ns(); });
  return out;
}

std::vector<const Probe*> ProbeManager::probes() const {
  absl::MutexLock lock(&mu_);
  std::vector<const Probe*> out;
  for (const auto& [key, r] : running_) {
    if (r.probe) out.push_back(r.probe.get());
  }
  return out;
}

}  // namespace andon::agent
