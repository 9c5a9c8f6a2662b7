#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/probe.h"
#include "agent/probes/profile/kernel_symbols.h"
#include "agent/probes/profile/user_symbolizer.h"
#include "common/probe_catalog.h"

struct profile_bpf;  // generated skeleton; only profile_probe.cc sees it
struct bpf_link;     // libbpf

namespace andon::agent {

struct ProfileProbeOptions {
  uint32_t frequency_hz = 49;   // samples per second per CPU
  uint32_t top_k = 500;         // stacks kept per process per collection
  uint32_t max_keys = 16384;    // (process, stacks) pairs the kernel map holds
  uint32_t max_stacks = 16384;  // distinct stacks the kernel stack map holds
};

// On-CPU profile: samples every CPU `frequency_hz` times a second (software
// cpu-clock perf events, so it works without a PMU), and emits cpu_profile
// {comm} as a top-k of folded stacks ("main;work;spin", root first, kernel
// frames after user frames and suffixed "_[k]") with their sample counts.
// The idle task is not sampled. Each Collect drains the kernel's counts and
// frees the stacks they used. User frames are named from the ELF symbol
// tables of the files mapped (frame pointers needed to unwind past the
// leaf), kernel frames from /proc/kallsyms. Stacks beyond `top_k` per
// process are dropped and reported as folded through the budget actions.
// Thread safety: as Probe.
class ProfileProbe final : public Probe {
 public:
  explicit ProfileProbe(ProfileProbeOptions options = {});
  ~ProfileProbe() override;

  std::vector<v1::MetricInfo> Metrics() const override { return BuiltinMetrics("profile"); }

 protected:
  absl::Status InitImpl() override;
  absl::Status CollectImpl(absl::Time sample_time, WindowAccumulator& acc) override;
  void StopImpl() override;

 private:
  struct SkelDeleter {
    void operator()(profile_bpf* skel) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };

  // Appends the frames of stack `id` to `frames`, leaf first.
  void AppendStack(int32_t id, bool user, uint32_t pid, std::vector<std::string>& frames);
  uint64_t ReadDrops() const;

  const ProfileProbeOptions options_;
  std::unique_ptr<profile_bpf, SkelDeleter> skel_;
  std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links_;  // one per CPU
  std::optional<KernelSymbols> kernel_symbols_;
  UserSymbolizer user_symbols_;
  int num_cpus_ = 0;
  uint64_t folded_ = 0;       // stacks dropped beyond top_k so far
  uint64_t lost_stacks_ = 0;  // samples whose stack the kernel could not store
};

}  // namespace andon::agent
