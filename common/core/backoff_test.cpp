#include "common/core/backoff.hpp"

#include <gtest/gtest.h>

namespace kprof {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromTheInitialDelayUpToTheCap) {
  const BackoffPolicy policy{milliseconds(800), milliseconds(30'000), 2.0, 0.0};
  EXPECT_EQ(backoffDelay(policy, 0, 0.5), milliseconds(800));
  EXPECT_EQ(backoffDelay(policy, 1, 0.5), milliseconds(1600));
  EXPECT_EQ(backoffDelay(policy, 5, 0.5), milliseconds(25'600));
  EXPECT_EQ(backoffDelay(policy, 6, 0.5), milliseconds(30'000));
  EXPECT_EQ(backoffDelay(policy, 4'000'000'000U, 0.5), milliseconds(30'000));
}

TEST(Backoff, JitterSpreadsDelaysButNeverPassesTheCap) {
  const BackoffPolicy policy{milliseconds(1000), milliseconds(5000), 2.0, 0.2};
  EXPECT_EQ(backoffDelay(policy, 0, 0.0), milliseconds(800));
  EXPECT_EQ(backoffDelay(policy, 0, 0.999999), milliseconds(1199));
  EXPECT_EQ(backoffDelay(policy, 10, 0.999999), milliseconds(5000));
}

TEST(Backoff, CountsFailuresAndResets) {
  Backoff backoff(BackoffPolicy{milliseconds(5), milliseconds(1'000'000), 2.0, 0.0}, 42);
  EXPECT_EQ(backoff.nextDelay(), milliseconds(5));
  EXPECT_EQ(backoff.nextDelay(), milliseconds(10));
  EXPECT_EQ(backoff.failures(), 2u);
  backoff.reset();
  EXPECT_EQ(backoff.nextDelay(), milliseconds(5));
}

}  // namespace
}  // namespace kprof
