#include "agent/probes/biolatency/program_selection.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/bpf/libbpf_status.h"

namespace andon::agent {

void BpfLinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

absl::Status SelectPrograms(bpf_object* obj, absl::Span<const char* const> programs,
                            absl::string_view object_name) {
  for (const char* name : programs) {
    if (bpf_object__find_program_by_name(obj, name) == nullptr) {
      return absl::InternalError(
          absl::StrCat("BPF program '", name, "' is missing from the ", object_name, " object"));
    }
  }
  for (bpf_program* p = bpf_object__next_program(obj, nullptr); p != nullptr;
       p = bpf_object__next_program(obj, p)) {
    const char* name = bpf_program__name(p);
    const bool wanted = std::any_of(programs.begin(), programs.end(),
                                    [name](const char* w) { return strcmp(w, name) == 0; });
    bpf_program__set_autoload(p, wanted);
    bpf_program__set_autoattach(p, false);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BpfLink>> AttachPrograms(bpf_object* obj,
                                                    absl::Span<const char* const> programs,
                                                    absl::string_view attach_point) {
  std::vector<BpfLink> links;
  for (const char* name : programs) {
    bpf_program* p = bpf_object__find_program_by_name(obj, name);
    if (p == nullptr) {
      return absl::InternalError(absl::StrCat("BPF program '", name, "' is missing"));
    }
    BpfLink link(bpf_program__attach(p));
    if (!link) {
      return LibbpfStatus(errno, absl::StrCat("attaching ", attach_point, " (program ", name, ")"));
    }
    links.push_back(std::move(link));
  }
  return links;
}

}  // namespace andon::agent
