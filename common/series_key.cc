#include "common/series_key.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace andon {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

void HashBytes(uint64_t& h, absl::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  // A separator byte that cannot be confused with content lengths.
  h ^= 0xff;
  h *= kFnvPrime;
}

}  // namespace

void CanonicalizeSeriesKey(v1::SeriesKey& key) {
  auto* labels = key.mutable_labels();
  std::stable_sort(labels->begin(), labels->end(),
                   [](const v1::Label& a, const v1::Label& b) { return a.name() < b.name(); });
  int out = 0;
  for (int i = 0; i < labels->size(); ++i) {
    if (out > 0 && labels->Get(out - 1).name() == labels->Get(i).name()) continue;
    if (out != i) labels->Mutable(out)->Swap(labels->Mutable(i));
    ++out;
  }
  while (labels->size() > out) labels->RemoveLast();
}

uint64_t SeriesId(const v1::SeriesKey& key) {
  uint64_t h = kFnvOffset;
  HashBytes(h, key.metric());
  for (const auto& l : key.labels()) {
    HashBytes(h, l.name());
    HashBytes(h, l.value());
  }
  return h;
}

std::string SeriesKeyToString(const v1::SeriesKey& key) {
  std::string out = key.metric();
  out += '{';
  for (int i = 0; i < key.labels_size(); ++i) {
    if (i > 0) out += ',';
    absl::StrAppend(&out, key.labels(i).name(), "=\"", key.labels(i).value(), "\"");
  }
  out += '}';
  return out;
}

absl::string_view LabelValue(const v1::SeriesKey& key, absl::string_view name) {
  for (const auto& l : key.labels()) {
    if (l.name() == name) return l.value();
  }
  return {};
}

}  // namespace andon
