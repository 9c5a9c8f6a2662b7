#include "aggregator/storage/rollup_buffer.h"

#include <utility>

#include "common/value_merge.h"

namespace andon::aggregator {

absl::Status RollupBuffer::Add(uint64_t series_id, int64_t start_ns, const v1::Value& value) {
  auto& series = windows_[start_ns];
  auto [it, inserted] = series.try_emplace(series_id);
  if (inserted) {
    it->second = value;
    ++size_;
    return absl::OkStatus();
  }
  return MergeValue(value, it->second);
}

std::vector<RollupBuffer::Window> RollupBuffer::TakeBefore(int64_t until_ns) {
  std::vector<Window> out;
  auto end = windows_.lower_bound(until_ns);
  for (auto it = windows_.begin(); it != end; ++it) {
    for (auto& [id, value] : it->second) out.push_back({id, it->first, std::move(value)});
  }
  windows_.erase(windows_.begin(), end);
  size_ -= out.size();
  return out;
}

}  // namespace andon::aggregator
