#include "agent/probes/profile/user_symbolizer.h"

#include <cxxabi.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace andon::agent {
namespace {

// Cap on cached symbol tables; beyond it the cache starts afresh (files of
// long-gone processes are the usual surplus).
constexpr size_t kMaxCachedFiles = 512;

struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Demangle(const char* name) {
  if (strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  std::unique_ptr<char, decltype(&free)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                           &free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::shared_ptr<const ElfSymbols> ElfSymbols::Load(const std::string& path) {
  auto out = std::make_shared<ElfSymbols>();
  if (elf_version(EV_CURRENT) == EV_NONE) return out;
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return out;
  std::unique_ptr<Elf, ElfDeleter> elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return out;

  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) == 0) {
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf.get(), static_cast<int>(i), &ph) && ph.p_type == PT_LOAD) {
        out->segments_.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz});
      }
    }
  }
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)) {
      continue;
    }
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data || sh.sh_entsize == 0) continue;
    const size_t n = sh.sh_size / sh.sh_entsize;
    for (size_t i = 0; i < n; ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
      if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value == 0) continue;
      const char* name = elf_strptr(elf.get(), sh.sh_link, sym.st_name);
      if (name == nullptr || *name == 0) continue;
      out->symbols_.push_back({sym.st_value, sym.st_size, Demangle(name)});
    }
  }
  std::sort(out->symbols_.begin(), out->symbols_.end(),
            [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
  return out;
}

absl::string_view ElfSymbols::Lookup(uint64_t file_offset) const {
  uint64_t vaddr = 0;
  bool found = false;
  for (const Segment& s : segments_) {
    if (file_offset >= s.offset && file_offset < s.offset + s.size) {
      vaddr = file_offset - s.offset + s.vaddr;
      found = true;
      break;
    }
  }
  if (!found) return {};
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                             [](uint64_t a, const Symbol& s) { return a < s.addr; });
  if (it == symbols_.begin()) return {};
  const Symbol& s = *std::prev(it);
  // A sized symbol must contain the address; an unsized one (hand-written
  // assembly) is taken as reaching the next symbol.
  if (s.size != 0 && vaddr >= s.addr + s.size) return {};
  return s.name;
}

const std::vector<UserSymbolizer::Mapping>& UserSymbolizer::MapsOf(pid_t pid) {
  auto [it, inserted] = maps_.try_emplace(pid);
  if (!inserted) return it->second;
  std::ifstream in(absl::StrCat("/proc/", pid, "/maps"));
  std::string line;
  while (std::getline(in, line)) {
    // "start-end perms offset maj:min inode   path"
    unsigned long long start, end, offset, inode;
    unsigned int maj, min;
    char perms[8];
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset, &maj,
               &min, &inode, &path_at) < 7) {
      continue;
    }
    if (perms[2] != 'x') continue;  // only code
    it->second.push_back({start, end, offset, makedev(maj, min), inode,
                          path_at > 0 ? line.substr(path_at) : std::string()});
  }
  return it->second;
}

std::shared_ptr<const ElfSymbols> UserSymbolizer::SymbolsOf(pid_t pid, const Mapping& m) {
  const auto file = std::make_pair(m.dev, m.inode);
  auto it = files_.find(file);
  if (it != files_.end()) return it->second;
  if (files_.size() >= kMaxCachedFiles) files_.clear();
  // Through map_files the very file mapped is read, even if it was deleted
  // or lives in another mount namespace.
  auto symbols = ElfSymbols::Load(absl::StrFormat("/proc/%d/map_files/%llx-%llx", pid,
                                                  static_cast<unsigned long long>(m.start),
                                                  static_cast<unsigned long long>(m.end)));
  if (symbols->size() == 0 && !m.path.empty() && m.path[0] == '/') {
    symbols = ElfSymbols::Load(absl::StrCat("/proc/", pid, "/root", m.path));
  }
  files_.emplace(file, symbols);
  return symbols;
}

std::string UserSymbolizer::Symbolize(pid_t pid, uint64_t addr) {
  for (const Mapping& m : MapsOf(pid)) {
    if (addr < m.start || addr >= m.end) continue;
    if (m.inode == 0) return m.path.empty() ? "[anon]" : absl::StrCat("[", m.path, "]");
    absl::string_view name = SymbolsOf(pid, m)->Lookup(addr - m.start + m.offset);
    if (!name.empty()) return std::string(name);
    return absl::StrCat("[", BaseName(m.path), "]");
  }
  return "[unknown]";
}

}  // namespace andon::agent
