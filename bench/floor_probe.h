#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

struct bench_floor_bpf;  // generated skeleton; only floor_probe.cc sees it

namespace andon::bench {

// The floor program (floor.bpf.c) loaded and attached to sys_enter (and, if
// asked, sys_exit) for as long as the object lives: every syscall on every
// CPU is counted (twice with sys_exit). Not thread-safe.
class FloorProbe {
 public:
  // Loads and attaches; PERMISSION_DENIED when not root.
  static absl::StatusOr<std::unique_ptr<FloorProbe>> Start(bool with_exit);
  ~FloorProbe();

  // Program runs so far, summed over CPUs.
  absl::StatusOr<uint64_t> Count() const;

 private:
  struct SkelDeleter {
    void operator()(bench_floor_bpf* skel) const;
  };
  FloorProbe(std::unique_ptr<bench_floor_bpf, SkelDeleter> skel, int num_cpus)
      : skel_(std::move(skel)), num_cpus_(num_cpus) {}

  std::unique_ptr<bench_floor_bpf, SkelDeleter> skel_;
  int num_cpus_;
};

}  // namespace andon::bench
