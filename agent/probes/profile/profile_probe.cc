#include "agent/probes/profile/profile_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <linux/types.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/profile/profile.h"
#include "agent/window.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "profile.skel.h"

namespace andon::agent {
namespace {

constexpr char kAttachPoint[] = "perf_event:cpu-clock";

int OpenCpuClock(int cpu, uint32_t frequency_hz) {
  perf_event_attr attr = {};
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof(attr);
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_freq = frequency_hz;
  attr.freq = 1;
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

void ProfileProbe::SkelDeleter::operator()(profile_bpf* skel) const { profile_bpf__destroy(skel); }
void ProfileProbe::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

ProfileProbe::ProfileProbe(ProfileProbeOptions options) : Probe("profile"), options_(options) {}

ProfileProbe::~ProfileProbe() { Stop(); }

absl::Status ProfileProbe::InitImpl() {
  if (options_.frequency_hz == 0 || options_.frequency_hz > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "profile probe: frequency_hz must be between 1 and 1000, not ", options_.frequency_hz));
  }
  num_cpus_ = libbpf_num_possible_cpus();
  if (num_cpus_ <= 0) return LibbpfStatus(num_cpus_, "counting possible CPUs");
  absl::StatusOr<KernelSymbols> ksyms = KernelSymbols::Load();
  if (ksyms.ok()) {
    kernel_symbols_ = std::move(*ksyms);
  } else {
    ANDON_LOG(WARNING) << "profile probe: kernel frames stay unnamed: " << ksyms.status().message();
  }

  skel_.reset(profile_bpf__open());
  if (!skel_) return LibbpfStatus(errno, "opening the profile BPF object");
  int err = bpf_map__set_max_entries(skel_->maps.counts, options_.max_keys);
  if (!err) err = bpf_map__set_max_entries(skel_->maps.stacks, options_.max_stacks);
  if (err) return LibbpfStatus(err, "sizing the profile maps");
  err = profile_bpf__load(skel_.get());
  if (err) return LibbpfStatus(err, "loading the profile BPF object into the kernel");

  // One sampling event per online CPU; offline CPUs refuse with ENODEV.
  for (int cpu = 0; cpu < num_cpus_; ++cpu) {
    int fd = OpenCpuClock(cpu, options_.frequency_hz);
    if (fd < 0) {
      if (errno == ENODEV) continue;
      return LibbpfStatus(errno, absl::StrCat("opening a cpu-clock perf event on CPU ", cpu,
                                              " (perf_event_paranoid or no root?)"));
    }
    std::unique_ptr<bpf_link, LinkDeleter> link(
        bpf_program__attach_perf_event(skel_->progs.do_sample, fd));
    if (!link) {
      const int attach_err = errno;
      close(fd);  // the link owns the event only once attached
      return LibbpfStatus(attach_err, absl::StrCat("attaching to the perf event of CPU ", cpu));
    }
    links_.push_back(std::move(link));
  }
  if (links_.empty()) return absl::UnavailableError("profile probe: no online CPU to sample");
  SetAttachPoint(kAttachPoint);
  return absl::OkStatus();
}

void ProfileProbe::StopImpl() {
  links_.clear();
  skel_.reset();
  kernel_symbols_.reset();
  user_symbols_ = UserSymbolizer();
}

void ProfileProbe::AppendStack(int32_t id, bool user, uint32_t pid,
                               std::vector<std::string>& frames) {
  if (id == -EFAULT) return;  // no stack of this kind (a kernel thread's user stack)
  if (id < 0) {
    frames.push_back(user ? "[lost user stack]" : "[lost kernel stack]");
    return;
  }
  __u64 ips[PROFILE_MAX_STACK_DEPTH] = {};
  const uint32_t key = static_cast<uint32_t>(id);
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stacks), &key, ips) != 0) {
    frames.push_back(user ? "[lost user stack]" : "[lost kernel stack]");
    return;
  }
  for (int i = 0; i < PROFILE_MAX_STACK_DEPTH && ips[i] != 0; ++i) {
    if (user) {
      // Above the leaf, addresses are return addresses: the call is just before.
      frames.push_back(
          user_symbols_.Symbolize(static_cast<pid_t>(pid), i == 0 ? ips[i] : ips[i] - 1));
    } else {
      absl::string_view name = kernel_symbols_ ? kernel_symbols_->Lookup(ips[i]) : "";
      frames.push_back(absl::StrCat(name.empty() ? "[unknown]" : name, "_[k]"));
    }
  }
}

absl::Status ProfileProbe::CollectImpl(absl::Time sample_time, WindowAccumulator& acc) {
  const int counts_fd = bpf_map__fd(skel_->maps.counts);
  // Keys first, then take each one out: deleting while iterating would
  // restart the walk.
  std::vector<profile_key> keys;
  profile_key key, next;
  void* prev = nullptr;
  while (bpf_map_get_next_key(counts_fd, prev, &next) == 0) {
    keys.push_back(next);
    key = next;
    prev = &key;
  }

  user_symbols_.ForgetProcesses();
  absl::flat_hash_set<int32_t> used_stacks;
  // comm -> folded stack -> samples
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, uint64_t>> profiles;
  std::vector<__u64> per_cpu(num_cpus_);
  uint64_t samples = 0;
  for (const profile_key& k : keys) {
    // lookup-and-delete on a per-CPU hash needs 5.14+; this probe needs it
    // to drain without losing samples that land in between.
    if (bpf_map_lookup_and_delete_elem(counts_fd, &k, per_cpu.data()) != 0) continue;
    uint64_t n = 0;
    for (__u64 v : per_cpu) n += v;
    if (n == 0) continue;
    samples += n;
    std::vector<std::string> frames;  // leaf first
    AppendStack(k.kernel_stack_id, false, k.pid, frames);
    AppendStack(k.user_stack_id, true, k.pid, frames);
    if (k.kernel_stack_id >= 0) used_stacks.insert(k.kernel_stack_id);
    if (k.user_stack_id >= 0) used_stacks.insert(k.user_stack_id);
    if ((k.kernel_stack_id < 0 && k.kernel_stack_id != -EFAULT) ||
        (k.user_stack_id < 0 && k.user_stack_id != -EFAULT)) {
      lost_stacks_ += n;
    }
    if (frames.empty()) frames.push_back("[unknown]");
    std::reverse(frames.begin(), frames.end());  // root first
    profiles[std::string(k.comm, strnlen(k.comm, sizeof(k.comm)))][absl::StrJoin(frames, ";")] += n;
  }
  // Stacks are shared between keys; free them only after every key used them.
  // A sample landing in between may find its stack gone: "[lost ... stack]".
  for (int32_t id : used_stacks) {
    const uint32_t k = static_cast<uint32_t>(id);
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.stacks), &k);
  }

  for (auto& [comm, stacks] : profiles) {
    std::vector<std::pair<std::string, uint64_t>> sorted(stacks.begin(), stacks.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    uint64_t total = 0;
    for (const auto& [stack, count] : sorted) total += count;
    // Exact counts: a stack left out had at most the smallest count kept.
    uint64_t unlisted_bound = 0;
    if (sorted.size() > options_.top_k) {
      unlisted_bound = sorted[options_.top_k].second;
      folded_ += sorted.size() - options_.top_k;
      sorted.resize(options_.top_k);
      SetBudgetActions(folded_, 0,
                       absl::StrCat("stacks beyond the top ", options_.top_k,
                                    " of a process per collection are dropped"));
    }
    v1::Value value;
    v1::TopK* top = value.mutable_top_k();
    top->set_capacity(options_.top_k);
    top->set_total(total);
    top->set_unlisted_bound(unlisted_bound);
    for (auto& [stack, count] : sorted) {
      v1::TopK::Entry* e = top->add_entries();
      e->set_key(std::move(stack));
      e->set_count(count);
      e->set_error(0);
    }
    v1::SeriesKey series;
    series.set_metric("cpu_profile");
    v1::Label* l = series.add_labels();
    l->set_name("comm");
    l->set_value(comm);
    ANDON_RETURN_IF_ERROR(acc.AddValue(series, value, sample_time));
  }
  AddEvents(samples);
  SetDrops(ReadDrops() + lost_stacks_);
  return absl::OkStatus();
}

uint64_t ProfileProbe::ReadDrops() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &zero, values.data()) != 0) return 0;
  uint64_t total = 0;
  for (__u64 v : values) total += v;
  return total;
}

}  // namespace andon::agent
