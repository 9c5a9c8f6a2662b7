#include "agent/probes/generic/tracepoint_format.h"

#include <bpf/btf.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/bpf/libbpf_status.h"
#include "agent/probes/biolatency/tracefs.h"
#include "common/log.h"

namespace andon::agent {
namespace {

constexpr const char* kTracefsRoots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};

// "unsigned int", "char parent_comm[16]", "__data_loc char[] filename" ->
// the field's name (the last identifier, without any [..]).
std::string FieldName(absl::string_view decl) {
  size_t bracket = decl.find('[');
  // `__data_loc char[] name`: the brackets belong to the type.
  if (bracket != absl::string_view::npos && decl.rfind(']') == decl.size() - 1) {
    decl = decl.substr(0, bracket);
  }
  decl = absl::StripAsciiWhitespace(decl);
  size_t space = decl.find_last_of(" *");
  return std::string(space == absl::string_view::npos ? decl : decl.substr(space + 1));
}

TracepointField::Kind KindOf(absl::string_view decl, uint32_t size) {
  if (absl::StrContains(decl, "__data_loc")) {
    return absl::StrContains(decl, "char") ? TracepointField::Kind::kDataLoc
                                           : TracepointField::Kind::kOther;
  }
  if (absl::StrContains(decl, "[")) {
    return absl::StrContains(decl, "char ") ? TracepointField::Kind::kChars
                                            : TracepointField::Kind::kOther;
  }
  if (size == 1 || size == 2 || size == 4 || size == 8) return TracepointField::Kind::kNumber;
  return TracepointField::Kind::kOther;
}

// The type of BTF id `id` with typedefs and qualifiers peeled off.
const btf_type* Resolve(const btf* b, __u32 id) {
  const btf_type* t = btf__type_by_id(b, id);
  while (t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t))) {
    t = btf__type_by_id(b, t->type);
  }
  return t;
}

}  // namespace

std::vector<TracepointField> ParseTracepointFormat(absl::string_view text) {
  std::vector<TracepointField> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::StartsWith(line, "field:")) continue;
    TracepointField f;
    std::string decl;
    for (absl::string_view part : absl::StrSplit(line, ';', absl::SkipWhitespace())) {
      part = absl::StripAsciiWhitespace(part);
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(part, absl::MaxSplits(':', 1));
      if (kv.first == "field") {
        decl = std::string(absl::StripAsciiWhitespace(kv.second));
      } else if (kv.first == "offset") {
        (void)absl::SimpleAtoi(kv.second, &f.offset);
      } else if (kv.first == "size") {
        (void)absl::SimpleAtoi(kv.second, &f.size);
      } else if (kv.first == "signed") {
        f.is_signed = kv.second == "1";
      }
    }
    f.name = FieldName(decl);
    f.kind = KindOf(decl, f.size);
    if (!f.name.empty()) out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<std::vector<TracepointField>> TracepointFieldsFromBtf(absl::string_view name) {
  std::unique_ptr<btf, BtfDeleter> vmlinux(btf__load_vmlinux_btf());
  if (!vmlinux) return LibbpfStatus(errno, "loading the kernel's BTF");
  const std::string type_name = absl::StrCat("trace_event_raw_", name);
  const __s32 id = btf__find_by_name_kind(vmlinux.get(), type_name.c_str(), BTF_KIND_STRUCT);
  if (id < 0) {
    return absl::NotFoundError(absl::StrCat("the kernel's BTF has no struct ", type_name));
  }
  const btf_type* record = btf__type_by_id(vmlinux.get(), id);
  std::vector<TracepointField> out;
  const btf_member* m = btf_members(record);
  for (int i = 0; i < btf_vlen(record); ++i, ++m) {
    std::string member = btf__name_by_offset(vmlinux.get(), m->name_off);
    // struct trace_entry (the common fields), and the flexible array that
    // holds __data_loc strings.
    if (member == "ent" || member == "__data" || member.empty()) continue;
    TracepointField f;
    f.name = member;
    f.offset = btf_member_bit_offset(record, i) / 8;
    const __s64 size = btf__resolve_size(vmlinux.get(), m->type);
    f.size = size > 0 ? static_cast<uint32_t>(size) : 0;
    const btf_type* t = Resolve(vmlinux.get(), m->type);
    if (btf_member_bitfield_size(record, i) != 0 || !t || f.size == 0) {
      f.kind = TracepointField::Kind::kOther;
    } else if (absl::StartsWith(member, "__data_loc_")) {
      f.name = member.substr(strlen("__data_loc_"));
      f.kind = TracepointField::Kind::kDataLoc;  // only strings use __data_loc here
    } else if (btf_is_array(t)) {
      const btf_type* elem = Resolve(vmlinux.get(), btf_array(t)->type);
      const bool chars = elem && btf_is_int(elem) && elem->size == 1;
      f.kind = chars ? TracepointField::Kind::kChars : TracepointField::Kind::kOther;
    } else if (btf_is_int(t) || btf_is_enum(t) || btf_is_ptr(t)) {
      f.kind = KindOf("", f.size);
      f.is_signed = btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_SIGNED);
    }
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<TracepointFormat> ReadTracepointFormat(absl::string_view category,
                                                      absl::string_view name) {
  const std::string what = absl::StrCat("tracepoint ", category, ":", name);
  absl::Status mounted = EnsureTracefsMounted();
  if (mounted.ok()) {
    std::error_code ec;
    for (const char* root : kTracefsRoots) {
      const std::string events = absl::StrCat(root, "/events");
      if (!std::filesystem::exists(events, ec)) continue;
      std::ifstream in(absl::StrCat(events, "/", category, "/", name, "/format"));
      if (!in) {
        return absl::NotFoundError(
            absl::StrCat(what, ": no such tracepoint (looked in ", events, ")"));
      }
      std::stringstream text;
      text << in.rdbuf();
      return TracepointFormat{ParseTracepointFormat(text.str()), "tracefs"};
    }
  }
  ANDON_LOG(WARNING) << what << ": tracefs is unavailable (" << mounted.message()
                     << "); taking the record layout from the kernel's BTF";
  absl::StatusOr<std::vector<TracepointField>> fields = TracepointFieldsFromBtf(name);
  if (!fields.ok()) {
    return absl::NotFoundError(absl::StrCat(what, ": tracefs is unavailable (", mounted.message(),
                                            ") and ", fields.status().message()));
  }
  return TracepointFormat{*std::move(fields), "btf"};
}

}  // namespace andon::agent
