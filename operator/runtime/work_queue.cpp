#include "operator/runtime/work_queue.hpp"

namespace kprof::runtime {

WorkQueue::WorkQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter)
    : clock_(clock), limiter_(std::move(limiter)), alarm_(clock) {
  delay_thread_ = std::jthread([this](const std::stop_token& stop) { delayLoop(stop); });
}

WorkQueue::~WorkQueue() {
  shutDown();
  delay_thread_.request_stop();
  delay_thread_.join();
}

void WorkQueue::addLocked(const std::string& key) {
  if (shutting_down_ || !dirty_.insert(key).second) {
    return;
  }
  if (processing_.contains(key)) {
    return;  // queued again by done()
  }
  queue_.push_back(key);
  ready_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  addLocked(key);
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [this] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) {
    return std::nullopt;
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mutex_);
  processing_.erase(key);
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    ready_.notify_one();
  }
}

void WorkQueue::addAfter(const std::string& key, Clock::Duration delay) {
  if (delay <= Clock::Duration::zero()) {
    add(key);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) {
      return;
    }
    const Clock::SteadyTime ready_at = clock_.now() + delay;
    const auto it = waiting_since_.find(key);
    if (it != waiting_since_.end()) {
      if (it->second <= ready_at) {
        return;  // already due earlier
      }
      waiting_.erase({it->second, key});
    }
    waiting_.insert({ready_at, key});
    waiting_since_[key] = ready_at;
  }
  alarm_.wake();
}

void WorkQueue::addRateLimited(const std::string& key) {
  Clock::Duration delay;
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) {
      return;
    }
    delay = limiter_->when(key, clock_.now());
  }
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  limiter_->forget(key);
}

int WorkQueue::numRequeues(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return limiter_->numRequeues(key);
}

void WorkQueue::shutDown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    waiting_.clear();
    waiting_since_.clear();
  }
  ready_.notify_all();
  alarm_.wake();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

size_t WorkQueue::depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t WorkQueue::delayed() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

size_t WorkQueue::processing() const {
  std::lock_guard lock(mutex_);
  return processing_.size();
}

void WorkQueue::delayLoop(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    Clock::SteadyTime next = Alarm::kForever;
    {
      std::lock_guard lock(mutex_);
      if (shutting_down_) {
        return;
      }
      const Clock::SteadyTime now = clock_.now();
      while (!waiting_.empty() && waiting_.begin()->first <= now) {
        const std::string key = waiting_.begin()->second;
        waiting_.erase(waiting_.begin());
        waiting_since_.erase(key);
        addLocked(key);
      }
      if (!waiting_.empty()) {
        next = waiting_.begin()->first;
      }
    }
    alarm_.waitUntil(next, stop);
  }
}

}  // namespace kprof::runtime
