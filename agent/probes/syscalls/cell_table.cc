#include "agent/probes/syscalls/cell_table.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"
#include "common/log.h"

namespace andon::agent {
namespace {

static_assert(sizeof(syscalls_cell) % 8 == 0,
              "per-CPU values are laid out at 8-byte strides; a cell must fill them");

bool SameKey(const syscalls_cell& a, const syscalls_cell& b) {
  return a.comm_lo == b.comm_lo && a.comm_hi == b.comm_hi && a.nr == b.nr && a.bucket == b.bucket;
}

// A freed cell keeps its key, marked in the comm's last byte (always 0 in a
// real comm, which ends in a NUL within 16 bytes), with count 0: no key
// matches a marked one, so the kernel only claims the cell anew. An
// increment in flight while the cell was freed writes its count back over
// the 0; the cell then holds the count at eviction plus that increment,
// marked, and keeps it (nothing matches it) until it is freed again.
constexpr uint64_t kFreedMark = uint64_t{0xff} << 56;

bool Marked(const syscalls_cell& c) { return (c.comm_hi & kFreedMark) != 0; }

syscalls_cell Freed(syscalls_cell c) {
  c.comm_hi |= kFreedMark;
  return c;
}

}  // namespace

PerCpuCellTable::PerCpuCellTable(Options options, int fd, int num_cpus, EvictionStats* stats)
    : options_(std::move(options)),
      fd_(fd),
      num_cpus_(num_cpus),
      stats_(stats),
      seen_(static_cast<size_t>(options_.cells) * num_cpus),
      read_(seen_.size()),
      last_change_(options_.cells, absl::InfinitePast()) {}

void PerCpuCellTable::EmitGrowth(const syscalls_cell& before, const syscalls_cell& now,
                                 absl::FunctionRef<void(const syscalls_cell&, uint64_t)> emit) {
  if (now.count == 0) return;
  if (Marked(now)) {
    // An increment written back over a freed cell: what it adds to the count
    // the cell had when freed (`before`, marked by Evict) belongs to its key.
    if (SameKey(before, now) && now.count > before.count) {
      syscalls_cell key = now;
      key.comm_hi &= ~kFreedMark;
      emit(key, now.count - before.count);
    }
    return;
  }
  // A different key (or a count below the last one) means the cell was freed
  // and claimed again: all of it is new.
  const bool same = before.count != 0 && SameKey(before, now) && now.count >= before.count;
  const uint64_t delta = same ? now.count - before.count : now.count;
  if (delta > 0) emit(now, delta);
}

absl::Status PerCpuCellTable::Collect(
    absl::Time now, absl::FunctionRef<void(const syscalls_cell& cell, uint64_t delta)> emit) {
  if (options_.cells == 0) return absl::OkStatus();
  absl::Status s = ReadAll();
  if (!s.ok()) return s;
  for (uint32_t i = 0; i < options_.cells; ++i) {
    bool changed = false;
    bool used = false;
    for (int c = 0; c < num_cpus_; ++c) {
      const size_t at = static_cast<size_t>(i) * num_cpus_ + c;
      const syscalls_cell& before = seen_[at];
      const syscalls_cell& cur = read_[at];
      if (cur.count == 0) continue;
      used = true;
      if (before.count == cur.count && SameKey(before, cur)) continue;
      changed = true;
      EmitGrowth(before, cur, emit);
    }
    if (changed) last_change_[i] = now;
    if (used && !changed && now - last_change_[i] >= options_.idle_eviction && Evict(i, emit)) {
      continue;  // Evict zeroed seen_ for this cell
    }
    memcpy(&seen_[static_cast<size_t>(i) * num_cpus_], &read_[static_cast<size_t>(i) * num_cpus_],
           sizeof(syscalls_cell) * num_cpus_);
  }
  return absl::OkStatus();
}

absl::Status PerCpuCellTable::ReadAll() {
  // One batch covers the whole array; the loop is for kernels that answer in
  // smaller ones.
  std::vector<__u32> keys(options_.cells);
  __u32 token = 0;
  uint32_t done = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  while (done < options_.cells) {
    __u32 count = options_.cells - done;
    int err = bpf_map_lookup_batch(fd_, done == 0 ? nullptr : &token, &token, keys.data(),
                                   &read_[static_cast<size_t>(done) * num_cpus_], &count, &opts);
    if (err && err != -ENOENT) {
      return LibbpfStatus(err, absl::StrCat("reading the ", options_.name, " map"));
    }
    done += count;
    if (err == -ENOENT || count == 0) break;
  }
  if (done != options_.cells) {
    return absl::InternalError(absl::StrCat("reading the ", options_.name, " map: got ", done,
                                            " of its ", options_.cells, " cells"));
  }
  return absl::OkStatus();
}

bool PerCpuCellTable::Evict(uint32_t index,
                            absl::FunctionRef<void(const syscalls_cell&, uint64_t)> emit) {
  std::vector<syscalls_cell> last(num_cpus_);
  int err = bpf_map_lookup_elem(fd_, &index, last.data());
  // Each CPU's cell freed: its key kept and marked, count 0 (see kFreedMark).
  // An increment that lands between the lookup and the update before the
  // update's count is lost (a window of microseconds, on a cell idle on every
  // CPU for idle_eviction); one that lands after it is written back, marked,
  // and counted by the next Collect, never twice.
  std::vector<syscalls_cell> freed(num_cpus_);
  for (int c = 0; c < num_cpus_; ++c) {
    if (last[c].count == 0) continue;
    freed[c] = Freed(last[c]);
    freed[c].count = 0;
  }
  if (!err) err = bpf_map_update_elem(fd_, &index, freed.data(), BPF_EXIST);
  if (err) {
    const uint64_t n = stats_->eviction_errors.fetch_add(1, std::memory_order_relaxed) + 1;
    if ((n & (n - 1)) == 0) {
      ANDON_LOG(WARNING) << "cannot free idle cell " << index << " of the " << options_.name
                         << " map: " << LibbpfStatus(err, "evicting").message() << " (" << n
                         << " eviction errors so far; the cell stays counted)";
    }
    return false;
  }
  for (int c = 0; c < num_cpus_; ++c) {
    syscalls_cell& seen = seen_[static_cast<size_t>(index) * num_cpus_ + c];
    EmitGrowth(seen, last[c], emit);
    if (last[c].count != 0 && !Marked(last[c])) {
      stats_->evicted_keys.fetch_add(1, std::memory_order_relaxed);
    }
    // What a written-back increment is counted against.
    seen = last[c].count == 0 ? syscalls_cell{} : Freed(last[c]);
  }
  last_change_[index] = absl::InfinitePast();
  return true;
}

}  // namespace andon::agent
