#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "andon/v1/types.pb.h"

namespace andon {

// Sorts a series' labels by name, in place, so that equal series compare and
// hash equal. Later duplicates of a label name are dropped.
void CanonicalizeSeriesKey(v1::SeriesKey& key);
// Whether `key`'s labels are sorted by name with no name twice, as
// CanonicalizeSeriesKey() leaves them.
bool IsCanonicalSeriesKey(const v1::SeriesKey& key);

// A stable 64-bit id of a canonical series key (FNV-1a over metric and
// labels). Stable across processes and versions: it is stored on disk.
uint64_t SeriesId(const v1::SeriesKey& canonical_key);

// A second 64-bit hash of a canonical series key, independent of SeriesId:
// two keys with the same SeriesId and the same fingerprint are taken to be
// the same key (a chance of 2^-64 per collision of ids).
uint64_t SeriesFingerprint(const v1::SeriesKey& canonical_key);

// "metric{a=\"x\",b=\"y\"}", for logs and error messages.
std::string SeriesKeyToString(const v1::SeriesKey& key);

// The value of label `name`, or empty if the series has none.
absl::string_view LabelValue(const v1::SeriesKey& key, absl::string_view name);

}  // namespace andon
