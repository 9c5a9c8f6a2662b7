#pragma once

// Min, max and "larger" for doubles that are commutative to the bit, so that
// merges give byte-identical protos in any order: NaN is ignored by min and
// max (treated as missing), and -0.0 is smaller than +0.0 (std::min returns
// whichever argument came first for equal values).

#include <cmath>

namespace andon::value_internal {

inline double OrderedMin(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  if (a < b) return a;
  if (b < a) return b;
  return std::signbit(a) ? a : b;
}

inline double OrderedMax(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  if (a > b) return a;
  if (b > a) return b;
  return std::signbit(a) ? b : a;
}

// A strict total order: -0.0 before +0.0, NaN after every number.
inline bool OrderedLess(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  if (a < b) return true;
  if (b < a) return false;
  return std::signbit(a) && !std::signbit(b);
}

}  // namespace andon::value_internal
