#pragma once

// Prometheus remote-write requests (the 0.1.0 protocol: a snappy-compressed
// prometheus.WriteRequest protobuf), encoded by hand: the message is three
// nested repeated fields, not worth a generated proto for one benchmark.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace andon::bench {

struct PromSeries {
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by name, __name__ first
  double value = 0;
  int64_t timestamp_ms = 0;
};

// The snappy-compressed body of one remote-write request.
std::string EncodeWriteRequest(const std::vector<PromSeries>& series);

}  // namespace andon::bench
