// The operator's memory of what each agent should run and when it was last heard from. The
// ProfilingPolicy controller publishes a config per pod ("namespace/pod"); agents long-poll it
// through the agent config API and report their status; the controller reads lastSeen back to
// count reporting pods.
//
// Guarantees:
// - thread-safe; callbacks run without the registry's lock held;
// - a key's version changes only when its published content changes (JSON equality), and a
//   version is never reused by this registry: versions come from one sequence that starts at
//   the wall-clock milliseconds of the registry's creation, so an operator restart does not hand
//   an agent a number it already holds for different content;
// - a waiter is called exactly once: at once if the key moved past the version the caller saw,
//   else on the key's next change, else when its deadline passes, else (unfired) when cancelled;
//   no thread is held per waiter — deadlines are fired by one timer thread (startTimer) or by
//   whoever calls expireDue(), such as a test advancing a FakeClock.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"

namespace kprof::agentapi {

using WallTime = Clock::WallTime;

// One agent's config as a poll sees it.
struct AgentConfigView {
  bool published = false;
  int64_t version = 0;     // 0 while nothing is published
  nlohmann::json config;   // null while nothing is published

  bool operator==(const AgentConfigView&) const = default;
};

struct RegistryOptions {
  // The first version handed out; unset: the wall-clock milliseconds at construction.
  std::optional<int64_t> first_version;
  // Records of agents with no published config are forgotten after this long without a poll or
  // report, so pods that come and go do not pile up.
  std::chrono::seconds idle_record_ttl{600};
};

using WaitId = uint64_t;
using WaitCallback = std::function<void(const AgentConfigView& view)>;

class ConfigRegistry {
 public:
  explicit ConfigRegistry(Clock& clock, RegistryOptions options = {});
  // Stops the timer and calls every waiter still pending with the key's current view, so no
  // long poll is left hanging.
  ~ConfigRegistry();
  ConfigRegistry(const ConfigRegistry&) = delete;
  ConfigRegistry& operator=(const ConfigRegistry&) = delete;

  // Sets the key's config; returns its version, new if the content changed (waiters are then
  // released), unchanged otherwise.
  int64_t publish(const std::string& key, nlohmann::json config);
  // Withdraws the key's config (the agent keeps running what it has; its polls answer "pending"
  // until a config is published again) and releases its waiters. The agent's lastSeen and report
  // are kept until the record goes idle.
  void remove(const std::string& key);
  AgentConfigView current(const std::string& key) const;
  // The keys that have a published config, sorted.
  std::vector<std::string> publishedKeys() const;

  // The agent polled: lastSeen becomes the clock's wall time.
  void recordPoll(const std::string& key);
  // The agent posted its status: kept as given, and lastSeen is updated.
  void recordReport(const std::string& key, nlohmann::json report);
  // When the agent last polled or reported; nullopt if never (since this operator started).
  std::optional<WallTime> lastSeen(const std::string& key) const;
  std::optional<nlohmann::json> report(const std::string& key) const;

  // Registers `callback` for the key (see the guarantees above). `seen_version` is the version
  // the caller looked at (0 for "nothing published"). If the key already moved past it, the
  // callback runs at once on this thread. Callbacks must not block.
  WaitId wait(const std::string& key,
              int64_t seen_version,
              Clock::SteadyTime deadline,
              WaitCallback callback);
  // True if the waiter was still pending; it will not be called.
  bool cancel(WaitId id);
  std::size_t waiting() const;

  // Calls the waiters whose deadline has passed, forgets idle records, and returns the earliest
  // remaining deadline.
  std::optional<Clock::SteadyTime> expireDue();

  // Starts the thread that calls expireDue() as deadlines pass. It waits in real time, so it
  // suits the SystemClock; tests on a FakeClock call expireDue() themselves. Idempotent.
  void startTimer();
  void stopTimer();

  // The clock deadlines are measured on.
  Clock& clock() const { return clock_; }

 private:
  struct Record {
    bool published = false;
    int64_t version = 0;
    nlohmann::json config;
    std::optional<WallTime> last_seen;
    std::optional<nlohmann::json> report;
  };
  struct Waiter {
    std::string key;
    Clock::SteadyTime deadline;
    WaitCallback callback;
  };
  using Fired = std::vector<std::pair<WaitCallback, AgentConfigView>>;

  static AgentConfigView viewOf(const Record* record);
  const Record* find(const std::string& key) const;
  // Takes every waiter of `key` out, with the view to hand it. Called with mutex_ held.
  void takeWaiters(const std::string& key, Fired& fired);
  void eraseWaiter(std::map<WaitId, Waiter>::iterator it);
  static void fire(Fired& fired);
  void timerLoop();

  Clock& clock_;
  RegistryOptions options_;
  mutable std::mutex mutex_;
  int64_t next_version_;
  std::unordered_map<std::string, Record> records_;
  std::map<WaitId, Waiter> waiters_;
  std::multimap<std::string, WaitId> waiters_by_key_;
  std::set<std::pair<Clock::SteadyTime, WaitId>> deadlines_;
  WaitId next_wait_id_ = 1;
  Clock::SteadyTime next_prune_{};

  std::condition_variable timer_wake_;
  bool timer_stopping_ = false;
  std::thread timer_;
};

}  // namespace kprof::agentapi
