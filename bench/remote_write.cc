#include "bench/remote_write.h"

#include <snappy.h>

#include <cstring>

#include "common/varint.h"

namespace andon::bench {
namespace {

// A length-delimited field (wire type 2).
void PutBytes(std::string& out, int field, const std::string& bytes) {
  PutVarint(out, static_cast<uint64_t>(field) << 3 | 2);
  PutVarint(out, bytes.size());
  out += bytes;
}

}  // namespace

std::string EncodeWriteRequest(const std::vector<PromSeries>& series) {
  std::string request;
  std::string ts, label, sample;
  for (const PromSeries& s : series) {
    ts.clear();
    for (const auto& [name, value] : s.labels) {  // TimeSeries.labels = 1
      label.clear();
      PutBytes(label, 1, name);
      PutBytes(label, 2, value);
      PutBytes(ts, 1, label);
    }
    sample.clear();  // TimeSeries.samples = 2: Sample{double value = 1; int64 timestamp = 2}
    sample.push_back(static_cast<char>(1 << 3 | 1));
    char bits[8];
    std::memcpy(bits, &s.value, 8);
    sample.append(bits, 8);
    PutVarint(sample, 2 << 3 | 0);
    PutVarint(sample, static_cast<uint64_t>(s.timestamp_ms));
    PutBytes(ts, 2, sample);
    PutBytes(request, 1, ts);  // WriteRequest.timeseries = 1
  }
  std::string compressed;
  snappy::Compress(request.data(), request.size(), &compressed);
  return compressed;
}

}  // namespace andon::bench
