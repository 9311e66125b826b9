// Informer: keeps a Cache of one resource type (in one namespace or all, optionally filtered by
// label/field selectors) in step with the API server, and tells handlers which keys changed.
//
// A driver thread performs the actions of the pure list/watch state machine in
// informer_state.hpp: list every page (limit page_size) and replace the cache in one step; watch
// from the list's resourceVersion (bookmarks move it on); a stream the server ends is re-watched
// from the last version at once; Expired (410) re-lists, so objects deleted while disconnected
// vanish; other errors back off 800 ms → 30 s with jitter. A second thread re-notifies every key
// each resync_period (0: never).
//
// Handlers are level-based: onChange(key) says "look at this key again" after an add, update,
// delete or resync; controllers enqueue the key and read the cache. Handlers run on the
// informer's threads, one call at a time, and must be quick (enqueue and return); they must not
// call onChange. hasSynced() turns true once the first list's keys have been handed to them.
//
// Waits use the injected Clock through an Alarm: with a FakeClock, call stop() inside a
// fakekube::ClockPump (a backing-off or resyncing thread sees the stop at the next advance).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/core/backoff.hpp"
#include "common/core/clock.hpp"
#include "operator/kube/api.hpp"
#include "operator/runtime/alarm.hpp"
#include "operator/runtime/cache.hpp"
#include "operator/runtime/informer_state.hpp"

namespace kprof::runtime {

struct InformerOptions {
  kube::ResourceType type;
  std::string ns;  // "" for all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  // Each watch asks the server to end the stream after a time drawn from [t, 2t), so watches of
  // many informers do not all reconnect at once.
  std::chrono::seconds watch_timeout{300};
  Clock::Duration resync_period{0};
  BackoffPolicy backoff{std::chrono::milliseconds(800), std::chrono::seconds(30), 2.0, 0.2};
  InformerTiming timing;
  Transform transform = dropNoise;
  uint64_t seed = std::random_device{}();  // jitter of backoff and watch timeouts
};

using ChangeHandler = std::function<void(const std::string& key)>;

struct InformerStats {
  uint64_t lists = 0;  // complete lists (every page)
  uint64_t list_failures = 0;
  uint64_t watches = 0;  // watch calls made
  uint64_t watch_failures = 0;
  uint64_t expired = 0;  // 410s that forced a re-list
  uint64_t events = 0;
  uint64_t resyncs = 0;
};

class Informer {
 public:
  Informer(kube::Api& api, Clock& clock, InformerOptions options);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers added after the first sync are told about every key already cached.
  void onChange(const ChangeHandler& handler);
  void start();
  // Requests stop and joins the threads; the open watch ends at once. Idempotent.
  void stop();

  bool hasSynced() const;
  // Waits (real time: it bounds how long the caller blocks) for the first complete list.
  bool waitForSync(std::chrono::milliseconds timeout, const std::stop_token& stop = {}) const;

  const Cache& cache() const { return cache_; }
  InformerState state() const;
  InformerStats stats() const;

 private:
  void run(const std::stop_token& stop);
  void resyncLoop(const std::stop_token& stop);
  InformerStep advance(const InformerOutcome& outcome);
  InformerOutcome listAll(const std::stop_token& stop);
  InformerOutcome watchFrom(const std::string& resource_version, const std::stop_token& stop);
  void notify(const std::vector<std::string>& keys);
  void deliverLocked(const std::vector<std::string>& keys);  // delivery_ held

  kube::Api& api_;
  Clock& clock_;
  InformerOptions options_;
  Cache cache_;
  Alarm backoff_alarm_;
  Alarm resync_alarm_;
  std::mt19937_64 random_;

  // Held while handlers are called and while one is added, so a new handler hears about every
  // key exactly through one path: the notification in flight or the replay of the cache.
  std::mutex delivery_;
  mutable std::mutex mutex_;  // state_, stats_, handlers_, synced_
  mutable std::condition_variable_any synced_changed_;
  InformerState state_;
  InformerStats stats_;
  std::vector<ChangeHandler> handlers_;
  bool synced_ = false;

  std::mutex lifecycle_;
  std::jthread driver_;
  std::jthread resync_;
};

}  // namespace kprof::runtime
