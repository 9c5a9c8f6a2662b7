#include "agent/syscall_names.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace andon::agent {
namespace {

struct NamedSyscall {
  uint32_t nr;
  const char* name;
};

constexpr NamedSyscall kNamed[] = {
#include "syscall_table.inc"
};

// Every number below kSyscallTableSize gets a stored name up front, so that
// lookups never allocate and the returned views stay valid.
const std::array<std::string, kSyscallTableSize>& Table() {
  static const auto* table = [] {
    auto* t = new std::array<std::string, kSyscallTableSize>();
    for (uint32_t nr = 0; nr < kSyscallTableSize; ++nr) (*t)[nr] = absl::StrCat("sys_", nr);
    for (const NamedSyscall& s : kNamed) {
      if (s.nr < kSyscallTableSize) (*t)[s.nr] = s.name;
    }
    return t;
  }();
  return *table;
}

}  // namespace

absl::string_view SyscallName(uint32_t nr) {
  if (nr >= kSyscallTableSize) return "sys_invalid";
  return Table()[nr];
}

}  // namespace andon::agent
