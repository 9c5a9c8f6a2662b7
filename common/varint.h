#pragma once

// Protocol-buffer style base-128 varints, for hand-encoded formats.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace andon {

inline void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint off the front of `in`; false if it is truncated or too long.
inline bool GetVarint(absl::string_view& in, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    out |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = out;
      return true;
    }
  }
  return false;
}

}  // namespace andon
