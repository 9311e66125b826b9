#include "operator/agentapi/config_registry.hpp"

#include <algorithm>

#include "common/log/log.hpp"

namespace kprof::agentapi {
namespace {

constexpr std::chrono::seconds kPruneEvery{60};
// The timer re-checks at least this often, so a clock that is not the system's still moves it.
constexpr std::chrono::seconds kTimerMaxSleep{1};

int64_t firstVersion(const Clock& clock, const RegistryOptions& options) {
  if (options.first_version) {
    return std::max<int64_t>(*options.first_version, 1);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      clock.wallNow().time_since_epoch())
                      .count();
  return std::max<int64_t>(ms, 1);
}

}  // namespace

ConfigRegistry::ConfigRegistry(Clock& clock, RegistryOptions options)
    : clock_(clock),
      options_(options),
      next_version_(firstVersion(clock, options)),
      next_prune_(clock.now() + kPruneEvery) {}

ConfigRegistry::~ConfigRegistry() {
  stopTimer();
  Fired fired;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, waiter] : waiters_) {
      fired.emplace_back(std::move(waiter.callback), viewOf(find(waiter.key)));
    }
    waiters_.clear();
    waiters_by_key_.clear();
    deadlines_.clear();
  }
  fire(fired);
}

AgentConfigView ConfigRegistry::viewOf(const Record* record) {
  if (record == nullptr || !record->published) {
    return {};
  }
  return {true, record->version, record->config};
}

const ConfigRegistry::Record* ConfigRegistry::find(const std::string& key) const {
  const auto it = records_.find(key);
  return it == records_.end() ? nullptr : &it->second;
}

void ConfigRegistry::fire(Fired& fired) {
  for (auto& [callback, view] : fired) {
    try {
      callback(view);
    } catch (const std::exception& e) {
      log::logger("agentapi")->error("config waiter failed: {}", e.what());
    } catch (...) {
      log::logger("agentapi")->error("config waiter failed");
    }
  }
}

void ConfigRegistry::eraseWaiter(std::map<WaitId, Waiter>::iterator it) {
  const WaitId id = it->first;
  deadlines_.erase({it->second.deadline, id});
  auto [first, last] = waiters_by_key_.equal_range(it->second.key);
  for (auto k = first; k != last; ++k) {
    if (k->second == id) {
      waiters_by_key_.erase(k);
      break;
    }
  }
  waiters_.erase(it);
}

void ConfigRegistry::takeWaiters(const std::string& key, Fired& fired) {
  const AgentConfigView view = viewOf(find(key));
  auto [first, last] = waiters_by_key_.equal_range(key);
  std::vector<WaitId> ids;
  for (auto k = first; k != last; ++k) {
    ids.push_back(k->second);
  }
  for (WaitId id : ids) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) {
      continue;
    }
    fired.emplace_back(std::move(it->second.callback), view);
    eraseWaiter(it);
  }
}

int64_t ConfigRegistry::publish(const std::string& key, nlohmann::json config) {
  Fired fired;
  int64_t version = 0;
  {
    std::lock_guard lock(mutex_);
    Record& record = records_[key];
    if (record.published && record.config == config) {
      return record.version;
    }
    record.published = true;
    record.config = std::move(config);
    record.version = next_version_++;
    version = record.version;
    takeWaiters(key, fired);
  }
  fire(fired);
  return version;
}

void ConfigRegistry::remove(const std::string& key) {
  Fired fired;
  {
    std::lock_guard lock(mutex_);
    const auto it = records_.find(key);
    if (it == records_.end() || !it->second.published) {
      return;
    }
    it->second.published = false;
    it->second.version = 0;
    it->second.config = nullptr;
    takeWaiters(key, fired);
  }
  fire(fired);
}

AgentConfigView ConfigRegistry::current(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return viewOf(find(key));
}

std::vector<std::string> ConfigRegistry::publishedKeys() const {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, record] : records_) {
      if (record.published) {
        keys.push_back(key);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

void ConfigRegistry::recordPoll(const std::string& key) {
  const WallTime now = clock_.wallNow();
  std::lock_guard lock(mutex_);
  records_[key].last_seen = now;
}

void ConfigRegistry::recordReport(const std::string& key, nlohmann::json report) {
  const WallTime now = clock_.wallNow();
  std::lock_guard lock(mutex_);
  Record& record = records_[key];
  record.last_seen = now;
  record.report = std::move(report);
}

std::optional<WallTime> ConfigRegistry::lastSeen(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const Record* record = find(key);
  return record == nullptr ? std::nullopt : record->last_seen;
}

std::optional<nlohmann::json> ConfigRegistry::report(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const Record* record = find(key);
  return record == nullptr ? std::nullopt : record->report;
}

WaitId ConfigRegistry::wait(const std::string& key,
                            int64_t seen_version,
                            Clock::SteadyTime deadline,
                            WaitCallback callback) {
  AgentConfigView view;
  WaitId id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_wait_id_++;
    view = viewOf(find(key));
    if (view.version == seen_version) {
      const bool earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
      waiters_.emplace(id, Waiter{key, deadline, std::move(callback)});
      waiters_by_key_.emplace(key, id);
      deadlines_.emplace(deadline, id);
      if (earliest) {
        timer_wake_.notify_all();
      }
      return id;
    }
  }
  // The key changed between the caller's look and this call: answer now.
  Fired fired;
  fired.emplace_back(std::move(callback), std::move(view));
  fire(fired);
  return id;
}

bool ConfigRegistry::cancel(WaitId id) {
  std::lock_guard lock(mutex_);
  const auto it = waiters_.find(id);
  if (it == waiters_.end()) {
    return false;
  }
  eraseWaiter(it);
  return true;
}

std::size_t ConfigRegistry::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

std::optional<Clock::SteadyTime> ConfigRegistry::expireDue() {
  Fired fired;
  std::optional<Clock::SteadyTime> next;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const WaitId id = deadlines_.begin()->second;
      auto it = waiters_.find(id);
      fired.emplace_back(std::move(it->second.callback), viewOf(find(it->second.key)));
      eraseWaiter(it);
    }
    if (now >= next_prune_) {
      next_prune_ = now + kPruneEvery;
      const WallTime idle_before = clock_.wallNow() - options_.idle_record_ttl;
      std::erase_if(records_, [&](const auto& entry) {
        const Record& record = entry.second;
        return !record.published && (!record.last_seen || *record.last_seen < idle_before) &&
               !waiters_by_key_.contains(entry.first);
      });
    }
    if (!deadlines_.empty()) {
      next = deadlines_.begin()->first;
    }
  }
  fire(fired);
  return next;
}

void ConfigRegistry::startTimer() {
  std::lock_guard lock(mutex_);
  if (timer_.joinable()) {
    return;
  }
  timer_stopping_ = false;
  timer_ = std::thread([this] { timerLoop(); });
}

void ConfigRegistry::stopTimer() {
  {
    std::lock_guard lock(mutex_);
    timer_stopping_ = true;
    timer_wake_.notify_all();
  }
  if (timer_.joinable() && timer_.get_id() != std::this_thread::get_id()) {
    timer_.join();
  }
}

void ConfigRegistry::timerLoop() {
  while (true) {
    const std::optional<Clock::SteadyTime> next = expireDue();
    std::unique_lock lock(mutex_);
    if (timer_stopping_) {
      return;
    }
    Clock::Duration sleep = kTimerMaxSleep;
    if (next) {
      sleep = std::clamp<Clock::Duration>(*next - clock_.now(), Clock::Duration::zero(), sleep);
    }
    // Woken early by stopTimer() or by a waiter with an earlier deadline than `next`.
    timer_wake_.wait_for(lock, sleep, [&] {
      return timer_stopping_ || (!deadlines_.empty() && next.has_value() &&
                                 deadlines_.begin()->first < *next) ||
             (!deadlines_.empty() && !next.has_value());
    });
    if (timer_stopping_) {
      return;
    }
  }
}

}  // namespace kprof::agentapi
