// Exponential backoff with jitter, as a pure function of the attempt number and a random draw, so
// callers own their randomness and tests pick the draw.
//   uploads:   250 ms → 30 s        informer re-list/re-watch: 800 ms → 30 s
//   work queue per item: 5 ms → 1000 s
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace kprof {

struct BackoffPolicy {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{30'000};
  double multiplier = 2.0;
  // Fraction of the delay that is randomized: 0.2 → the delay is scaled by a factor in [0.8, 1.2].
  double jitter = 0.2;
};

// Delay before retry number `attempt` (0 for the first retry). `unit_random` is in [0, 1).
// The result never exceeds policy.max, jitter included.
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy,
                                       uint32_t attempt,
                                       double unit_random);

// Tracks consecutive failures of one thing and draws jittered delays for it.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, uint64_t seed = std::random_device{}())
      : policy_(policy), random_(seed) {}

  // The delay to wait before the next attempt; each call counts one more failure.
  std::chrono::milliseconds nextDelay();
  void reset() { attempt_ = 0; }
  uint32_t failures() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 random_;
  uint32_t attempt_ = 0;
};

}  // namespace kprof
