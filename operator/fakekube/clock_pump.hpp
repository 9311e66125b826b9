// ClockPump: keeps advancing a FakeClock from a background thread for as long as it lives.
// Components that wait on a Clock notice a stop request only when their clock moves (a FakeClock
// sleeper wakes only on advance()), so tests wrap a component's stop() in a pump:
//   { fakekube::ClockPump pump(clock); informer.stop(); }
// The pump yields between steps (a short real wait on its own flag) instead of spinning; the
// only thing it decides is how fast fake time runs, never what a test asserts.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/core/clock.hpp"

namespace kprof::fakekube {

class ClockPump {
 public:
  explicit ClockPump(FakeClock& clock, Clock::Duration step = std::chrono::seconds(1));
  ~ClockPump();
  ClockPump(const ClockPump&) = delete;
  ClockPump& operator=(const ClockPump&) = delete;

 private:
  FakeClock& clock_;
  Clock::Duration step_;
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kprof::fakekube
