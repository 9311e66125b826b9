// Rate limiters for work queue retries, with client-go's workqueue semantics and defaults:
// - ItemExponentialRateLimiter: per key, base × 2^failures, capped (5 ms … 1000 s);
// - BucketRateLimiter: one token bucket for all keys (10 qps, burst 100): the 101st immediate
//   request waits 100 ms, the 102nd 200 ms, and tokens refill at qps;
// - MaxOfRateLimiter: asks every limiter and waits the longest;
// defaultControllerRateLimiter() is the max of the two defaults.
// Pure over the time value passed in (no clock reads) and not thread-safe: the WorkQueue guards
// its limiter with its own lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/clock.hpp"

namespace kprof::runtime {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` waits before its next retry; counts this retry.
  virtual Clock::Duration when(const std::string& key, Clock::SteadyTime now) = 0;
  // The key succeeded: its failure history is cleared.
  virtual void forget(const std::string& key) = 0;
  // Retries counted for `key` since it was last forgotten.
  virtual int numRequeues(const std::string& key) const = 0;
};

class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  explicit ItemExponentialRateLimiter(Clock::Duration base = std::chrono::milliseconds(5),
                                      Clock::Duration max = std::chrono::seconds(1000));
  Clock::Duration when(const std::string& key, Clock::SteadyTime now) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) const override;

 private:
  Clock::Duration base_;
  Clock::Duration max_;
  std::unordered_map<std::string, int> failures_;
};

class BucketRateLimiter final : public RateLimiter {
 public:
  // `qps` tokens per second, at most `burst` saved up; the bucket starts full.
  explicit BucketRateLimiter(double qps = 10, int burst = 100);
  Clock::Duration when(const std::string& key, Clock::SteadyTime now) override;
  void forget(const std::string& /*key*/) override {}
  int numRequeues(const std::string& /*key*/) const override { return 0; }

 private:
  Clock::Duration interval_;  // the time one token takes to refill
  Clock::Duration capacity_;  // burst × interval
  // When the bucket would be full again if nothing more were taken (a virtual scheduling time:
  // each request moves it one interval on; a request waits for whatever exceeds the capacity).
  Clock::SteadyTime full_at_{};
  bool started_ = false;
};

class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Clock::Duration when(const std::string& key, Clock::SteadyTime now) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) const override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// max(per item 5 ms × 2^n capped at 1000 s, overall 10 qps with burst 100).
std::unique_ptr<RateLimiter> defaultControllerRateLimiter();

}  // namespace kprof::runtime
