#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace andon::agent {

// Function names of one ELF file (.symtab and .dynsym), with its loadable
// segments to turn file offsets into symbol addresses. Immutable.
class ElfSymbols {
 public:
  // Reads `path`; an unreadable or non-ELF file yields an empty table.
  static std::shared_ptr<const ElfSymbols> Load(const std::string& path);

  // The function at `file_offset` of the file, or empty.
  absl::string_view Lookup(uint64_t file_offset) const;
  size_t size() const { return symbols_.size(); }

 private:
  struct Segment {
    uint64_t offset, vaddr, size;
  };
  struct Symbol {
    uint64_t addr, size;
    std::string name;
  };
  std::vector<Segment> segments_;
  std::vector<Symbol> symbols_;  // by address
};

// Names user-space addresses of processes: /proc/PID/maps gives the file
// and offset behind an address, the file's ELF symbol table the function.
// Symbol tables are cached per file (device, inode) across calls; maps are
// cached per pid until ForgetProcesses(), so each collection sees current
// mappings. Addresses it cannot name become "[unknown]" or "[file name]".
// Not thread-safe.
class UserSymbolizer {
 public:
  // The name of the function at `addr` in process `pid`.
  std::string Symbolize(pid_t pid, uint64_t addr);
  // Drops the cached maps of every process (call once per collection).
  void ForgetProcesses() { maps_.clear(); }
  size_t cached_files() const { return files_.size(); }

 private:
  struct Mapping {
    uint64_t start, end, offset;
    uint64_t dev, inode;
    std::string path;
  };
  const std::vector<Mapping>& MapsOf(pid_t pid);
  std::shared_ptr<const ElfSymbols> SymbolsOf(pid_t pid, const Mapping& m);

  absl::flat_hash_map<pid_t, std::vector<Mapping>> maps_;
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, std::shared_ptr<const ElfSymbols>> files_;
};

}  // namespace andon::agent
