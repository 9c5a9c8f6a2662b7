// GenericProbe's loading and attaching, one function per attach family. The
// three skeletons share every global and map name, so one template sets them.
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/generic/generic.h"
#include "agent/probes/generic/generic_probe.h"
#include "agent/probes/generic/tracepoint_format.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "generic_tp.skel.h"
#include "generic_uprobe.skel.h"
#include "generic_usdt.skel.h"

namespace andon::agent {
namespace {

// Ticks of GENERIC_TICK_NS per second.
constexpr uint64_t kTicksPerSecond = 10;

// An error naming the binary when a path is given and nothing is there
// (libbpf resolves bare names like "libc.so.6" itself).
absl::Status CheckBinary(absl::string_view what, const std::string& binary) {
  if (!absl::StrContains(binary, '/')) return absl::OkStatus();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(binary, ec)) {
    return absl::NotFoundError(absl::StrCat(what, ": binary ", binary, " not found"));
  }
  return absl::OkStatus();
}

}  // namespace

template <typename Skel>
absl::Status GenericProbe::Configure(Skel* skel) {
  const GenericKernelConfig& k = plan_.kernel;
  for (int i = 0; i < GENERIC_SLOTS; ++i) {
    skel->rodata->op_src[i] = k.ops[i].src;
    skel->rodata->op_index[i] = k.ops[i].index;
    skel->rodata->op_offset[i] = k.ops[i].offset;
    skel->rodata->op_size[i] = k.ops[i].size;
    skel->rodata->op_signed[i] = k.ops[i].is_signed ? 1 : 0;
  }
  skel->rodata->value_mode = k.value_mode;
  skel->rodata->filter_op = k.filter_op;
  skel->rodata->filter_number = k.filter_number;
  memcpy(const_cast<char*>(skel->rodata->filter_text), k.filter_text.data(),
         std::min<size_t>(k.filter_text.size(), GENERIC_STR_LEN - 1));
  // The budget is split evenly over CPUs: no CPU may exceed its share, so
  // the host never exceeds the whole.
  uint64_t per_tick = 0;
  if (options_.events_per_second > 0) {
    per_tick = std::max<uint64_t>(
        1, options_.events_per_second / kTicksPerSecond / static_cast<uint64_t>(num_cpus_));
  }
  skel->rodata->events_per_tick = per_tick;
  int err = bpf_map__set_max_entries(skel->maps.counts, options_.max_keys);
  if (err) return LibbpfStatus(err, "sizing the counts map");
  const uint32_t hist = k.value_mode == GENERIC_DIST ? options_.max_hist : 1;
  err = bpf_map__set_max_entries(skel->maps.hist, hist);
  if (err) return LibbpfStatus(err, "sizing the histogram map");
  return absl::OkStatus();
}

absl::Status GenericProbe::LoadTracepoint() {
  const std::string& category = spec_.category();
  const std::string& event = spec_.event();
  ANDON_ASSIGN_OR_RETURN(TracepointFormat format, ReadTracepointFormat(category, event));
  ANDON_ASSIGN_OR_RETURN(plan_, PlanGenericProbe(spec_, &format.fields));
  generic_tp_bpf* skel = generic_tp_bpf__open();
  if (!skel) return LibbpfStatus(errno, "opening the generic tracepoint program");
  object_ = Object(skel, [](void* p) { generic_tp_bpf__destroy(static_cast<generic_tp_bpf*>(p)); });
  ANDON_RETURN_IF_ERROR(Configure(skel));
  int err = generic_tp_bpf__load(skel);
  if (err) return LibbpfStatus(err, "loading the generic tracepoint program");
  const std::string what = absl::StrCat("tracepoint ", category, ":", event);
  Link link(
      bpf_program__attach_tracepoint(skel->progs.generic_tp, category.c_str(), event.c_str()));
  if (!link) {
    err = errno;
    if (format.source == "btf") {
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": attaching needs tracefs, which is not mounted (",
                       LibbpfStatus(err, "attaching").message(),
                       "); run `mount -t tracefs tracefs /sys/kernel/tracing`"));
    }
    return LibbpfStatus(err, absl::StrCat(what, ": attaching"));
  }
  links_.push_back(std::move(link));
  SetAttachPoint(absl::StrCat("tracepoint:", category, ":", event));
  return StartReaders(skel->maps.counts, skel->maps.hist, skel->maps.stats);
}

absl::Status GenericProbe::LoadUprobe() {
  const std::string& binary = spec_.binary();
  const std::string& symbol = spec_.symbol();
  const std::string kind = spec_.type() == v1::GenericProbe::URETPROBE ? "uretprobe" : "uprobe";
  const std::string what = absl::StrCat(kind, " ", binary, ":", symbol);
  ANDON_RETURN_IF_ERROR(CheckBinary(what, binary));
  ANDON_ASSIGN_OR_RETURN(plan_, PlanGenericProbe(spec_, nullptr));
  generic_uprobe_bpf* skel = generic_uprobe_bpf__open();
  if (!skel) return LibbpfStatus(errno, "opening the generic uprobe program");
  object_ = Object(
      skel, [](void* p) { generic_uprobe_bpf__destroy(static_cast<generic_uprobe_bpf*>(p)); });
  ANDON_RETURN_IF_ERROR(Configure(skel));
  skel->rodata->save_entry = plan_.kernel.save_entry ? 1 : 0;
  bpf_program__set_autoload(skel->progs.generic_entry, plan_.kernel.attach_entry);
  bpf_program__set_autoload(skel->progs.generic_return, plan_.kernel.attach_return);
  int err = generic_uprobe_bpf__load(skel);
  if (err) return LibbpfStatus(err, "loading the generic uprobe program");

  std::vector<std::string> points;
  for (bool ret : {false, true}) {
    if (!(ret ? plan_.kernel.attach_return : plan_.kernel.attach_entry)) continue;
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret, .func_name = symbol.c_str());
    Link link(bpf_program__attach_uprobe_opts(
        ret ? skel->progs.generic_return : skel->progs.generic_entry, -1, binary.c_str(), 0,
        &opts));
    if (!link) {
      err = errno;
      if (err == ENOENT) return absl::NotFoundError(absl::StrCat(what, ": symbol not found"));
      return LibbpfStatus(err, absl::StrCat(what, ": attaching"));
    }
    links_.push_back(std::move(link));
    points.push_back(absl::StrCat(ret ? "uretprobe:" : "uprobe:", binary, ":", symbol));
  }
  SetAttachPoint(absl::StrJoin(points, ","));
  return StartReaders(skel->maps.counts, skel->maps.hist, skel->maps.stats);
}

absl::Status GenericProbe::LoadUsdt() {
  const std::string& binary = spec_.binary();
  const std::string what =
      absl::StrCat("usdt ", binary, ":", spec_.provider(), ":", spec_.usdt_name());
  ANDON_RETURN_IF_ERROR(CheckBinary(what, binary));
  ANDON_ASSIGN_OR_RETURN(plan_, PlanGenericProbe(spec_, nullptr));
  generic_usdt_bpf* skel = generic_usdt_bpf__open();
  if (!skel) return LibbpfStatus(errno, "opening the generic USDT program");
  object_ =
      Object(skel, [](void* p) { generic_usdt_bpf__destroy(static_cast<generic_usdt_bpf*>(p)); });
  ANDON_RETURN_IF_ERROR(Configure(skel));
  int err = generic_usdt_bpf__load(skel);
  if (err) return LibbpfStatus(err, "loading the generic USDT program");
  Link link(bpf_program__attach_usdt(skel->progs.generic_usdt, -1, binary.c_str(),
                                     spec_.provider().c_str(), spec_.usdt_name().c_str(), nullptr));
  if (!link) {
    err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat(what, ": no such probe in ", binary));
    }
    return LibbpfStatus(err, absl::StrCat(what, ": attaching"));
  }
  links_.push_back(std::move(link));
  SetAttachPoint(absl::StrCat("usdt:", binary, ":", spec_.provider(), ":", spec_.usdt_name()));
  return StartReaders(skel->maps.counts, skel->maps.hist, skel->maps.stats);
}

}  // namespace andon::agent
