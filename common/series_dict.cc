#include "common/series_dict.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace andon {

void SeriesDictEncoder::Encode(v1::IngestBatch& batch) {
  for (v1::Point& point : *batch.mutable_points()) {
    if (!point.has_series()) continue;
    scratch_.clear();
    point.series().SerializeToString(&scratch_);
    auto it = refs_.find(scratch_);
    if (it == refs_.end()) {
      if (refs_.size() >= kMaxSeriesRefs) continue;  // sent whole
      const uint32_t ref = static_cast<uint32_t>(refs_.size() + 1);
      it = refs_.emplace(scratch_, ref).first;
      v1::SeriesDef* def = batch.add_series_defs();
      def->set_ref(ref);
      *def->mutable_series() = std::move(*point.mutable_series());
    }
    point.clear_series();
    point.set_series_ref(it->second);
  }
}

absl::Status SeriesDictDecoder::Decode(v1::IngestBatch& batch) {
  for (v1::SeriesDef& def : *batch.mutable_series_defs()) {
    if (def.ref() == 0) {
      return absl::InvalidArgumentError(
          "a series definition is numbered 0; number series from 1 (0 means a point carries its "
          "series whole)");
    }
    auto it = series_.find(def.ref());
    if (it == series_.end()) {
      if (series_.size() >= kMaxSeriesRefs) {
        return absl::InvalidArgumentError(absl::StrCat(
            "more than ", kMaxSeriesRefs,
            " series defined on one ingest stream; send further series whole or open a new "
            "stream"));
      }
      series_.emplace(def.ref(), std::move(*def.mutable_series()));
    } else {
      it->second = std::move(*def.mutable_series());
    }
  }
  batch.clear_series_defs();
  for (int i = 0; i < batch.points_size(); ++i) {
    v1::Point& point = *batch.mutable_points(i);
    if (point.series_ref() == 0) continue;
    if (point.has_series()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "point ", i, " has both a series and series_ref ", point.series_ref(), "; send one"));
    }
    auto it = series_.find(point.series_ref());
    if (it == series_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "point ", i, " refers to series_ref ", point.series_ref(),
          ", which this stream has not defined; define it in series_defs of this or an earlier "
          "batch on the same stream"));
    }
    point.unsafe_arena_set_allocated_series(&it->second);
    point.set_series_ref(0);
    lent_.push_back(i);
  }
  return absl::OkStatus();
}

void SeriesDictDecoder::Release(v1::IngestBatch& batch) {
  for (int i : lent_) {
    if (i < batch.points_size()) (void)batch.mutable_points(i)->unsafe_arena_release_series();
  }
  lent_.clear();
}

}  // namespace andon
