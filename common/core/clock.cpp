#include "common/core/clock.hpp"

#include <thread>

namespace kprof {

void SystemClock::sleepFor(Duration duration) {
  std::this_thread::sleep_for(duration);
}

FakeClock::FakeClock(WallTime wall_start) : wall_start_(wall_start) {}

Clock::SteadyTime FakeClock::now() const {
  std::lock_guard lock(mutex_);
  return SteadyTime{} + elapsed_;
}

Clock::WallTime FakeClock::wallNow() const {
  std::lock_guard lock(mutex_);
  return wall_start_ + std::chrono::duration_cast<WallTime::duration>(elapsed_);
}

void FakeClock::sleepFor(Duration duration) {
  std::unique_lock lock(mutex_);
  const Duration deadline = elapsed_ + duration;
  ++sleepers_;
  sleepers_changed_.notify_all();
  advanced_.wait(lock, [&] { return elapsed_ >= deadline; });
  --sleepers_;
  sleepers_changed_.notify_all();
}

void FakeClock::waitForSleepers(int count) {
  std::unique_lock lock(mutex_);
  sleepers_changed_.wait(lock, [&] { return sleepers_ >= count; });
}

void FakeClock::advance(Duration duration) {
  {
    std::lock_guard lock(mutex_);
    elapsed_ += duration;
  }
  advanced_.notify_all();
}

}  // namespace kprof
