#pragma once

#include <linux/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/probes/syscalls/percpu_counter_map.h"  // EvictionStats
#include "agent/probes/syscalls/syscalls.h"

namespace andon::agent {

// Turns a BPF per-CPU array of syscalls_cell (each CPU's open-addressed table
// of cumulative counts, see syscalls.bpf.c) into exact deltas per key. Each
// Collect reads every cell of every CPU with batched lookups and reports what
// grew since the previous read. A cell index that stayed unchanged on every
// CPU for `idle_eviction` is zeroed so that the kernel can give it to another
// key; its last increments are reported as it goes. Cells are claimed only by
// the BPF program and zeroed only here, so a cell whose key changed was
// zeroed and claimed again: everything it holds is new. A cell is read while
// the kernel may be claiming it: the kernel writes the key before the count,
// and the count comes first in the cell, so (with x86's ordered stores and
// loads) a non-zero count is never read with a key half written.
// Not thread-safe (the collect loop's).
class PerCpuCellTable {
 public:
  struct Options {
    std::string name;    // "count_cells", for errors
    uint32_t cells = 0;  // per CPU: the array's max_entries
    absl::Duration idle_eviction = absl::Seconds(60);
  };

  // `fd` is the map's; `stats` must outlive this object.
  PerCpuCellTable(Options options, int fd, int num_cpus, EvictionStats* stats);

  // Calls emit(cell, delta > 0) for every key that grew since the previous
  // Collect (at `now`, which also drives eviction); the cell's count is its
  // cumulative count on one CPU and is not the delta. A key held by cells of
  // several CPUs is emitted once per CPU.
  absl::Status Collect(absl::Time now,
                       absl::FunctionRef<void(const syscalls_cell& cell, uint64_t delta)> emit);

 private:
  // Reads every CPU's copy of every cell into `read_`.
  absl::Status ReadAll();
  // Zeroes cell `index` on every CPU after emitting what it gained since the
  // last read. Returns false (and logs) if the kernel refused.
  bool Evict(uint32_t index, absl::FunctionRef<void(const syscalls_cell&, uint64_t)> emit);
  // Emits what `now` holds beyond `before` (one CPU's copy of one cell).
  static void EmitGrowth(const syscalls_cell& before, const syscalls_cell& now,
                         absl::FunctionRef<void(const syscalls_cell&, uint64_t)> emit);

  const Options options_;
  const int fd_;
  const int num_cpus_;
  EvictionStats* const stats_;
  std::vector<syscalls_cell> seen_;      // [cell * num_cpus + cpu], as of the last read
  std::vector<syscalls_cell> read_;      // the same, being read now
  std::vector<absl::Time> last_change_;  // per cell, on any CPU
};

}  // namespace andon::agent
