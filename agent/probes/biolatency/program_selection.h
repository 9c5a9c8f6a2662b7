#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

struct bpf_link;    // libbpf
struct bpf_object;  // libbpf

namespace andon::agent {

struct BpfLinkDeleter {
  void operator()(bpf_link* link) const;
};
using BpfLink = std::unique_ptr<bpf_link, BpfLinkDeleter>;

// Before load: makes `programs` the only programs of `obj` that load, none
// auto-attached, so that one attach point's programs are verified without
// those of the others (a tp_btf or fentry the kernel lacks fails at load).
// INTERNAL if a name is missing from the object (a build mismatch).
absl::Status SelectPrograms(bpf_object* obj, absl::Span<const char* const> programs,
                            absl::string_view object_name);

// After load: attaches each of `programs`; on failure detaches what it
// attached and says which program failed, as part of `attach_point`.
absl::StatusOr<std::vector<BpfLink>> AttachPrograms(bpf_object* obj,
                                                    absl::Span<const char* const> programs,
                                                    absl::string_view attach_point);

}  // namespace andon::agent
