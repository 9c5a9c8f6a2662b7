#include "common/series_key.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace andon {
namespace {

void HashBytes(uint64_t& h, absl::string_view s) {
  // A separator byte that cannot be confused with content lengths.
  h = Fnv1aByte(Fnv1a(h, s), 0xff);
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

bool IsCanonicalSeriesKey(const v1::SeriesKey& key) {
  for (int i = 1; i < key.labels_size(); ++i) {
    if (!(key.labels(i - 1).name() < key.labels(i).name())) return false;
  }
  return true;
}

uint64_t SeriesId(const v1::SeriesKey& key) {
  uint64_t h = kFnv1aOffset;
  HashBytes(h, key.metric());
  for (const auto& l : key.labels()) {
    HashBytes(h, l.name());
    HashBytes(h, l.value());
  }
  return h;
}

uint64_t SeriesFingerprint(const v1::SeriesKey& key) {
  uint64_t h = Mix64(kFnv1aOffset ^ 0x9e3779b97f4a7c15ull);
  auto add = [&h](absl::string_view s) { h = Mix64(Fnv1a(h, s) ^ s.size()); };
  add(key.metric());
  for (const auto& l : key.labels()) {
    add(l.name());
    add(l.value());
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
