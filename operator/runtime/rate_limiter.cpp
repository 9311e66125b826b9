#include "operator/runtime/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace kprof::runtime {

ItemExponentialRateLimiter::ItemExponentialRateLimiter(Clock::Duration base, Clock::Duration max)
    : base_(base), max_(max) {}

Clock::Duration ItemExponentialRateLimiter::when(const std::string& key,
                                                 Clock::SteadyTime /*now*/) {
  const int exponent = failures_[key]++;
  // Doubling stops at the cap, so a key that failed a thousand times cannot overflow.
  Clock::Duration delay = base_;
  for (int i = 0; i < exponent && delay < max_; ++i) {
    delay *= 2;
  }
  return std::min(delay, max_);
}

void ItemExponentialRateLimiter::forget(const std::string& key) {
  failures_.erase(key);
}

int ItemExponentialRateLimiter::numRequeues(const std::string& key) const {
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst)
    : interval_(std::llround(1e9 / std::max(qps, 1e-9))),
      capacity_(interval_ * std::max(burst, 1)) {}

Clock::Duration BucketRateLimiter::when(const std::string& /*key*/, Clock::SteadyTime now) {
  if (!started_ || full_at_ < now) {
    full_at_ = now;  // refilled completely
    started_ = true;
  }
  full_at_ += interval_;
  const Clock::Duration over = full_at_ - now - capacity_;
  return std::max(over, Clock::Duration::zero());
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Clock::Duration MaxOfRateLimiter::when(const std::string& key, Clock::SteadyTime now) {
  Clock::Duration longest = Clock::Duration::zero();
  for (auto& limiter : limiters_) {
    longest = std::max(longest, limiter->when(key, now));  // every limiter counts the retry
  }
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& limiter : limiters_) {
    limiter->forget(key);
  }
}

int MaxOfRateLimiter::numRequeues(const std::string& key) const {
  int most = 0;
  for (const auto& limiter : limiters_) {
    most = std::max(most, limiter->numRequeues(key));
  }
  return most;
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter() {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialRateLimiter>());
  limiters.push_back(std::make_unique<BucketRateLimiter>());
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace kprof::runtime
