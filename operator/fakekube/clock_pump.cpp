#include "operator/fakekube/clock_pump.hpp"

namespace kprof::fakekube {

ClockPump::ClockPump(FakeClock& clock, Clock::Duration step) : clock_(clock), step_(step) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      clock_.advance(step_);
      stopped_.wait_for(lock, std::chrono::milliseconds(1), [this] { return stop_; });
    }
  });
}

ClockPump::~ClockPump() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopped_.notify_all();
  thread_.join();
}

}  // namespace kprof::fakekube
