#include "bench/floor_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cerrno>
#include <vector>

#include "agent/bpf/libbpf_status.h"
#include "bench_floor.skel.h"

namespace andon::bench {

void FloorProbe::SkelDeleter::operator()(bench_floor_bpf* skel) const {
  bench_floor_bpf__destroy(skel);
}

absl::StatusOr<std::unique_ptr<FloorProbe>> FloorProbe::Start(bool with_exit) {
  const int num_cpus = libbpf_num_possible_cpus();
  if (num_cpus <= 0) return agent::LibbpfStatus(num_cpus, "counting possible CPUs");
  std::unique_ptr<bench_floor_bpf, SkelDeleter> skel(bench_floor_bpf__open());
  if (!skel) return agent::LibbpfStatus(errno, "opening the floor program");
  bpf_program__set_autoload(skel->progs.floor_sys_exit, with_exit);
  if (int err = bench_floor_bpf__load(skel.get()); err) {
    return agent::LibbpfStatus(err, "loading the floor program");
  }
  if (int err = bench_floor_bpf__attach(skel.get()); err) {
    return agent::LibbpfStatus(err, "attaching the floor program to raw_tracepoint/sys_enter");
  }
  return std::unique_ptr<FloorProbe>(new FloorProbe(std::move(skel), num_cpus));
}

FloorProbe::~FloorProbe() = default;

absl::StatusOr<uint64_t> FloorProbe::Count() const {
  std::vector<__u64> values(num_cpus_);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.hits), &zero, values.data()) != 0) {
    return agent::LibbpfStatus(-errno, "reading the floor's counter");
  }
  uint64_t total = 0;
  for (__u64 v : values) total += v;
  return total;
}

}  // namespace andon::bench
