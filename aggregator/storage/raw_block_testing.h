#pragma once

#include <cstdint>
#include <string>

#include "andon/v1/types.pb.h"
#include "common/varint.h"

namespace andon::aggregator {

// For tests: a raw block of one counter window as aggregators wrote it
// before counter columns (format 2): rows of offset 0 (as 1), width 1000 ms
// (ms flag set), value length, serialized value.
inline std::string CounterBlockInRows(uint64_t counter) {
  std::string rows;
  v1::Value v;
  v.set_counter(counter);
  PutVarint(rows, 1);
  PutVarint(rows, (1000 << 1) | 1);
  PutVarint(rows, v.ByteSizeLong());
  rows += v.SerializeAsString();
  return rows;
}

}  // namespace andon::aggregator
