#include "agent/probes/profile/kernel_symbols.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace andon::agent {

absl::StatusOr<KernelSymbols> KernelSymbols::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  KernelSymbols out;
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff81000000 T _stext" or "... t name [module]"
    std::istringstream fields(line);
    std::string addr, type, name;
    if (!(fields >> addr >> type >> name)) continue;
    if (type != "t" && type != "T" && type != "w" && type != "W") continue;  // text only
    const uint64_t a = strtoull(addr.c_str(), nullptr, 16);
    if (a == 0) continue;
    out.symbols_.push_back({a, std::move(name)});
  }
  if (out.symbols_.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, " shows no addresses; kernel stacks need root (or kptr_restrict=0)"));
  }
  std::sort(out.symbols_.begin(), out.symbols_.end(),
            [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
  return out;
}

absl::string_view KernelSymbols::Lookup(uint64_t addr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                             [](uint64_t a, const Symbol& s) { return a < s.addr; });
  if (it == symbols_.begin()) return {};
  return std::prev(it)->name;
}

}  // namespace andon::agent
