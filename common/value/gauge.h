#pragma once

// Gauges: a sampled level (CPU %, queue length, free bytes) summarized over a
// window as min, max, sum, count and the latest sample with its time.

#include <cstdint>

#include "andon/v1/types.pb.h"

namespace andon {

// A gauge of one sample `value` taken at `time_ns` (unix ns).
v1::Gauge GaugeOf(double value, int64_t time_ns);

// Merges `from` into `into`: min and max combine, sum and count add, and the
// latest sample wins `last` (equal times: the larger value). A gauge with
// count 0 is empty and changes nothing (two empties give the default gauge).
//
// Exactness. min, max, count and last are exact, so merges of them are
// associative and commutative to the bit, whatever the order or grouping.
// -0.0 orders below +0.0 and NaN samples are ignored by min and max (and
// win `last` ties), so that holds for every double. `sum` is a double: it is
// exact, and so merges are bit-for-bit associative, when the samples are
// integers (or multiples of one power of two) whose running sums stay below
// 2^53 in those units; otherwise every merge rounds to nearest and the last
// bits of `sum` may depend on the grouping (relative error 2^-53 per level).
void MergeGauge(const v1::Gauge& from, v1::Gauge& into);

}  // namespace andon
