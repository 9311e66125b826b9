#include "common/core/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace kprof {

std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy,
                                       uint32_t attempt,
                                       double unit_random) {
  const double max_ms = static_cast<double>(policy.max.count());
  // Cap the exponent before pow() so a huge attempt count cannot overflow to infinity.
  const double grown = static_cast<double>(policy.initial.count()) *
                       std::pow(policy.multiplier, std::min<uint32_t>(attempt, 64));
  const double base = std::min(grown, max_ms);
  const double factor = 1.0 + policy.jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(base * factor, max_ms)));
}

std::chrono::milliseconds Backoff::nextDelay() {
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  return backoffDelay(policy_, attempt_++, draw);
}

}  // namespace kprof
