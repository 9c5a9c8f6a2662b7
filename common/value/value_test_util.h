#pragma once

// Helpers for the property tests of common/value: deterministic bytes of a
// proto, and merging a set of values along a random tree.

#include <cstddef>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/value/distribution.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"

namespace andon::value_test {

// A distribution's buckets, index -> count, whichever encoding it carries.
inline std::map<int32_t, uint64_t> BucketMap(const v1::Distribution& d) {
  std::map<int32_t, uint64_t> out;
  ForEachBucket(d, [&](int32_t index, uint64_t count) { out[index] += count; });
  return out;
}

// The wire bytes with map entries sorted by key (SerializeAsString leaves
// map order unspecified), so equal messages give equal strings.
inline std::string DeterministicBytes(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

// Merges `values` into one along a random binary tree drawn from `rng`: takes
// two random members of the pool, merges one (randomly chosen) into the
// other, puts the result back, until one is left. `merge(from, into)`.
template <typename T>
T MergeRandomTree(std::vector<T> values, std::mt19937_64& rng,
                  const std::function<void(const T&, T&)>& merge) {
  while (values.size() > 1) {
    std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
    size_t a = pick(rng);
    size_t b = pick(rng);
    while (b == a) b = pick(rng);
    merge(values[b], values[a]);  // b into a
    if (b != values.size() - 1) values[b] = std::move(values.back());
    values.pop_back();
  }
  return values.front();
}

}  // namespace andon::value_test
