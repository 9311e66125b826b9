#include "operator/runtime/alarm.hpp"

#include <future>

#include <gtest/gtest.h>

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;
using Wake = Alarm::Wake;

constexpr auto kWait = 10s;  // bound on waiting for another thread

TEST(Alarm, FakeClockWaitEndsWhenTheClockReachesTheDeadline) {
  FakeClock clock;
  Alarm alarm(clock);
  std::stop_source stop;
  auto waited = std::async(std::launch::async, [&] { return alarm.waitFor(5s, stop.get_token()); });
  clock.waitForSleepers(1);
  clock.advance(4s);
  clock.waitForSleepers(1);
  EXPECT_NE(waited.wait_for(0s), std::future_status::ready);  // not yet due
  clock.advance(1s);
  ASSERT_EQ(waited.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(waited.get(), Wake::Deadline);
}

TEST(Alarm, AWakeIsNeverLost) {
  FakeClock clock;
  Alarm alarm(clock);
  alarm.wake();  // before anyone waits
  EXPECT_EQ(alarm.waitFor(1h, {}), Wake::Woken);
}

TEST(Alarm, WaitWithoutDeadlineEndsOnWakeOrStop) {
  FakeClock clock;
  Alarm alarm(clock);
  std::stop_source stop;
  auto woken = std::async(std::launch::async,
                          [&] { return alarm.waitUntil(Alarm::kForever, stop.get_token()); });
  alarm.wake();
  ASSERT_EQ(woken.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(woken.get(), Wake::Woken);

  auto stopped = std::async(std::launch::async,
                            [&] { return alarm.waitUntil(Alarm::kForever, stop.get_token()); });
  stop.request_stop();
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(stopped.get(), Wake::Stopped);
}

TEST(Alarm, FakeClockWaitSeesAStopAtTheNextAdvance) {
  FakeClock clock;
  Alarm alarm(clock);
  std::stop_source stop;
  auto waited = std::async(std::launch::async, [&] { return alarm.waitFor(1h, stop.get_token()); });
  clock.waitForSleepers(1);
  stop.request_stop();
  clock.advance(1ms);
  ASSERT_EQ(waited.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(waited.get(), Wake::Stopped);
}

TEST(Alarm, SystemClockWaitEndsAtOnceOnStopOrWake) {
  SystemClock clock;
  Alarm alarm(clock);
  std::stop_source stop;
  auto woken = std::async(std::launch::async, [&] { return alarm.waitFor(1h, stop.get_token()); });
  alarm.wake();
  ASSERT_EQ(woken.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(woken.get(), Wake::Woken);

  auto stopped =
      std::async(std::launch::async, [&] { return alarm.waitFor(1h, stop.get_token()); });
  stop.request_stop();
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(stopped.get(), Wake::Stopped);

  EXPECT_EQ(alarm.waitFor(1ms, {}), Wake::Deadline);
}

}  // namespace
}  // namespace kprof::runtime
