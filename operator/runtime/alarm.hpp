// Alarm: a wait on the injected Clock that a stop request or wake() cuts short — what every
// runtime thread uses between steps (work queue delays, informer backoff and resync, leader
// election retries).
//
// Clock::sleepFor cannot be interrupted, so:
// - On a FakeClock a wait with a deadline sleeps through clock.sleepFor in slices of at most
//   1 ms of fake time and checks for stop/wake between slices. Tests drive it as any FakeClock
//   sleeper (waitForSleepers, advance); a stop or wake is seen at the next advance, which is why
//   tests stop components inside a fakekube::ClockPump.
// - On any other clock (SystemClock) the wait is a condition variable wait until the deadline in
//   steady_clock time, so stop and wake take effect at once.
// A wait without a deadline (kForever) never touches the clock: it ends on wake() or stop only.
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "common/core/clock.hpp"

namespace kprof::runtime {

class Alarm {
 public:
  enum class Wake { Deadline, Woken, Stopped };
  static constexpr Clock::SteadyTime kForever = Clock::SteadyTime::max();

  explicit Alarm(Clock& clock);

  // Blocks until the clock reaches `deadline`, wake() is called, or `stop` is requested. A wake()
  // that came while nobody waited ends the next wait at once (it is never lost).
  Wake waitUntil(Clock::SteadyTime deadline, const std::stop_token& stop);
  Wake waitFor(Clock::Duration duration, const std::stop_token& stop);
  void wake();

  Clock& clock() const { return clock_; }

 private:
  bool takeWake();

  Clock& clock_;
  const bool fake_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  bool woken_ = false;
};

}  // namespace kprof::runtime
