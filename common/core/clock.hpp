// Time as a dependency: production code reads a Clock, tests hand in a FakeClock and advance it,
// so no unit test sleeps or depends on the machine's speed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace kprof {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using SteadyTime = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // Monotonic time for intervals, timeouts and backoff.
  virtual SteadyTime now() const = 0;
  // Calendar time for timestamps in profiles, resources and logs.
  virtual WallTime wallNow() const = 0;
  // Blocks the calling thread for `duration` of this clock's time.
  virtual void sleepFor(Duration duration) = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  void sleepFor(Duration duration) override;
};

// A clock that only moves when a test says so. sleepFor() returns once another thread has
// advanced the clock past the sleeper's deadline.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime wall_start = WallTime{std::chrono::seconds{1'700'000'000}});

  SteadyTime now() const override;
  WallTime wallNow() const override;
  void sleepFor(Duration duration) override;

  void advance(Duration duration);
  // Blocks until at least `count` threads are inside sleepFor(), so a test can advance time
  // knowing the sleeper's deadline is already set.
  void waitForSleepers(int count);

 private:
  mutable std::mutex mutex_;
  std::condition_variable advanced_;
  std::condition_variable sleepers_changed_;
  int sleepers_ = 0;
  Duration elapsed_{0};
  WallTime wall_start_;
};

}  // namespace kprof
