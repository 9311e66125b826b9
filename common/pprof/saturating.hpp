// Sums of sample values from outside (decoded, merged) must not overflow: signed overflow is
// undefined behaviour, and a hostile profile can carry values near INT64_MAX.
#pragma once

#include <cstdint>
#include <limits>

namespace kprof::pprof {

inline int64_t addSaturating(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

inline int64_t subtractSaturating(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return difference;
}

}  // namespace kprof::pprof
