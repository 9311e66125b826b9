// WorkQueue: the controllers' queue of object keys ("ns/name"), with client-go's workqueue
// semantics:
// - add() dedupes: a key waiting in the queue occupies one slot however often it is added;
// - get() blocks until a key or shutdown and marks the key as being processed; done() ends that.
//   A key added while it is processed is queued again only after done(), so two workers never
//   hold the same key;
// - addAfter() queues a key once the injected clock has moved on by the delay (the earliest
//   request wins when a key is delayed twice); addRateLimited() delays by the rate limiter,
//   forget() clears the key's failure history, numRequeues() reads it;
// - shutDown() wakes every waiter: get() hands out what is still queued, then returns nullopt;
//   adds after shutdown are ignored, and delayed keys are dropped.
// Thread-safe. One background thread turns delayed keys into queued ones; it waits on an Alarm,
// so with a FakeClock the queue is destroyed inside a fakekube::ClockPump when keys are delayed.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/core/clock.hpp"
#include "operator/runtime/alarm.hpp"
#include "operator/runtime/rate_limiter.hpp"

namespace kprof::runtime {

class WorkQueue {
 public:
  explicit WorkQueue(Clock& clock,
                     std::unique_ptr<RateLimiter> limiter = defaultControllerRateLimiter());
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  // Blocks until a key is ready or the queue is shut down and empty (nullopt).
  std::optional<std::string> get();
  void done(const std::string& key);

  void addAfter(const std::string& key, Clock::Duration delay);
  void addRateLimited(const std::string& key);
  void forget(const std::string& key);
  int numRequeues(const std::string& key) const;

  void shutDown();
  bool shuttingDown() const;

  // Keys queued and not yet handed out (the workqueue_depth metric).
  size_t depth() const;
  // Keys waiting for their delay.
  size_t delayed() const;
  // Keys handed out by get() and not yet done().
  size_t processing() const;

 private:
  void addLocked(const std::string& key);
  void delayLoop(const std::stop_token& stop);

  Clock& clock_;
  std::unique_ptr<RateLimiter> limiter_;
  Alarm alarm_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued, or re-added while processing
  std::unordered_set<std::string> processing_;  // handed out, not done
  std::set<std::pair<Clock::SteadyTime, std::string>> waiting_;  // by ready time
  std::unordered_map<std::string, Clock::SteadyTime> waiting_since_;
  bool shutting_down_ = false;

  std::jthread delay_thread_;  // last: started after everything it uses
};

}  // namespace kprof::runtime
