#include "operator/runtime/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;

const Clock::SteadyTime kT0{};

TEST(ItemExponentialRateLimiter, DoublesPerKeyFromFiveMilliseconds) {
  ItemExponentialRateLimiter limiter;
  EXPECT_EQ(limiter.when("ns/a", kT0), 5ms);
  EXPECT_EQ(limiter.when("ns/a", kT0), 10ms);
  EXPECT_EQ(limiter.when("ns/a", kT0), 20ms);
  EXPECT_EQ(limiter.when("ns/a", kT0), 40ms);
  EXPECT_EQ(limiter.numRequeues("ns/a"), 4);
  EXPECT_EQ(limiter.when("ns/b", kT0), 5ms);  // keys are independent
  limiter.forget("ns/a");
  EXPECT_EQ(limiter.numRequeues("ns/a"), 0);
  EXPECT_EQ(limiter.when("ns/a", kT0), 5ms);
}

TEST(ItemExponentialRateLimiter, CapsAtOneThousandSeconds) {
  ItemExponentialRateLimiter limiter;
  Clock::Duration last{};
  for (int i = 0; i < 18; ++i) {
    last = limiter.when("k", kT0);
  }
  EXPECT_EQ(last, 5ms * (1 << 17));  // 655.36 s, still under the cap
  EXPECT_EQ(limiter.when("k", kT0), 1000s);
  for (int i = 0; i < 1000; ++i) {  // a key failing forever never overflows
    EXPECT_EQ(limiter.when("k", kT0), 1000s);
  }
}

TEST(BucketRateLimiter, BurstOfHundredThenTenPerSecond) {
  BucketRateLimiter limiter;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.when("k" + std::to_string(i), kT0), 0ms) << i;
  }
  EXPECT_EQ(limiter.when("k100", kT0), 100ms);
  EXPECT_EQ(limiter.when("k101", kT0), 200ms);
  // 50 ms later half a token has come back: the next one waits 250 ms from then.
  EXPECT_EQ(limiter.when("k102", kT0 + 50ms), 250ms);
  // After ten seconds (and more) idle the bucket is full again.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.when("x", kT0 + 20s), 0ms) << i;
  }
  EXPECT_EQ(limiter.when("x", kT0 + 20s), 100ms);
  EXPECT_EQ(limiter.numRequeues("x"), 0);
}

TEST(BucketRateLimiter, RefillsAtTheConfiguredRate) {
  BucketRateLimiter limiter(2, 1);  // 2 qps, burst 1
  EXPECT_EQ(limiter.when("a", kT0), 0ms);
  EXPECT_EQ(limiter.when("a", kT0), 500ms);
  EXPECT_EQ(limiter.when("a", kT0 + 1s), 0ms);  // the token for 1 s has come back
}

TEST(DefaultControllerRateLimiter, WaitsForTheSlowerOfItemAndBucket) {
  auto limiter = defaultControllerRateLimiter();
  for (int i = 0; i < 99; ++i) {
    EXPECT_EQ(limiter->when("k" + std::to_string(i), kT0), 5ms);  // item limiter's first delay
  }
  EXPECT_EQ(limiter->when("k0", kT0), 10ms);   // k0's second failure, 100th token
  EXPECT_EQ(limiter->when("k1", kT0), 100ms);  // bucket empty: 101st token
  EXPECT_EQ(limiter->numRequeues("k0"), 2);
  limiter->forget("k0");
  EXPECT_EQ(limiter->numRequeues("k0"), 0);

  auto fresh = defaultControllerRateLimiter();
  Clock::Duration delay{};
  for (int i = 0; i < 10; ++i) {
    delay = fresh->when("hot", kT0 + std::chrono::seconds(100 * i));
  }
  EXPECT_EQ(delay, 5ms * 512);  // the item limiter dominates for one failing key
}

}  // namespace
}  // namespace kprof::runtime
