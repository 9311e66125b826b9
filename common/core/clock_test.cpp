#include "common/core/clock.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace kprof {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  const auto start = clock.now();
  const auto wall_start = clock.wallNow();
  EXPECT_EQ(clock.now(), start);
  clock.advance(1500ms);
  EXPECT_EQ(clock.now() - start, 1500ms);
  EXPECT_EQ(clock.wallNow() - wall_start, 1500ms);
}

TEST(FakeClock, SleeperWakesWhenAnotherThreadAdvancesPastItsDeadline) {
  FakeClock clock;
  std::thread sleeper([&] { clock.sleepFor(10s); });
  clock.waitForSleepers(1);
  clock.advance(4s);
  clock.advance(6s);  // deadline reached: the sleeper must return, or join() hangs the test
  sleeper.join();
  EXPECT_EQ(clock.now() - Clock::SteadyTime{}, 10s);
}

}  // namespace
}  // namespace kprof
