#include "operator/runtime/alarm.hpp"

#include <algorithm>
#include <utility>

namespace kprof::runtime {
namespace {
constexpr Clock::Duration kFakeSlice = std::chrono::milliseconds(1);
}

Alarm::Alarm(Clock& clock) : clock_(clock), fake_(dynamic_cast<FakeClock*>(&clock) != nullptr) {}

void Alarm::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  changed_.notify_all();
}

bool Alarm::takeWake() {
  std::lock_guard lock(mutex_);
  return std::exchange(woken_, false);
}

Alarm::Wake Alarm::waitFor(Clock::Duration duration, const std::stop_token& stop) {
  return waitUntil(clock_.now() + duration, stop);
}

Alarm::Wake Alarm::waitUntil(Clock::SteadyTime deadline, const std::stop_token& stop) {
  if (!fake_ || deadline == kForever) {
    std::unique_lock lock(mutex_);
    const auto woken = [this] { return woken_; };
    if (deadline == kForever) {
      changed_.wait(lock, stop, woken);
    } else {
      changed_.wait_until(lock, stop, deadline, woken);
    }
    if (std::exchange(woken_, false)) {
      return Wake::Woken;
    }
    return stop.stop_requested() ? Wake::Stopped : Wake::Deadline;
  }
  while (true) {
    if (takeWake()) {
      return Wake::Woken;
    }
    if (stop.stop_requested()) {
      return Wake::Stopped;
    }
    const Clock::SteadyTime now = clock_.now();
    if (now >= deadline) {
      return Wake::Deadline;
    }
    clock_.sleepFor(std::min<Clock::Duration>(deadline - now, kFakeSlice));
  }
}

}  // namespace kprof::runtime
