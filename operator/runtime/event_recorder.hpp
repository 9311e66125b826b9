// EventRecorder: writes core/v1 Events about objects ("Normal"/"Warning", reason, message) so
// `kubectl describe` shows what the operator did.
//
// record() never blocks the caller: it puts the event on a bounded queue that a background
// thread drains; when the queue is full the event is dropped and counted. The same (object,
// type, reason, message) again within the correlation window (10 minutes) patches count and
// lastTimestamp of the Event already written instead of creating another (client-go's
// correlator, simplified). Event names are "<object name>.<16 hex digits>" as client-go makes
// them; the Event lives in the object's namespace ("default" for cluster-scoped objects).
// Failures are counted and logged at debug level: events are best effort.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "common/core/clock.hpp"
#include "operator/kube/api.hpp"

namespace kprof::runtime {

enum class EventType { Normal, Warning };

struct EventRecorderOptions {
  std::string component = "kprof-operator";  // source.component, reportingComponent
  std::string reporting_instance;            // reportingInstance, source.host: the pod name
  size_t queue_capacity = 1000;
  Clock::Duration correlation_window = std::chrono::minutes(10);
  size_t max_correlated = 4096;  // Events remembered for patching
};

struct EventRecorderStats {
  uint64_t recorded = 0;  // accepted by record()
  uint64_t dropped = 0;   // refused by record(): queue full, stopped, or no object name
  uint64_t created = 0;
  uint64_t patched = 0;
  uint64_t failed = 0;  // API calls that failed
};

class EventRecorder {
 public:
  EventRecorder(kube::Api& api, Clock& clock, EventRecorderOptions options = {});
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `object` is the involved object (or a reference to it): kind, apiVersion, metadata.namespace,
  // metadata.name, metadata.uid are taken from it.
  void record(const kube::Object& object,
              EventType type,
              std::string_view reason,
              std::string_view message);

  // Waits (real time, bounded) until everything recorded so far has been written or failed.
  bool flush(std::chrono::milliseconds timeout);
  // Writes what is queued (stopping early if the API is unavailable), then ends the thread.
  void stop();

  EventRecorderStats stats() const;

 private:
  struct Pending {
    kube::Object involved;
    EventType type = EventType::Normal;
    std::string reason;
    std::string message;
  };
  struct Correlated {
    std::string name;
    std::string ns;
    int64_t count = 0;
    Clock::SteadyTime last_seen;
    std::list<std::string>::iterator lru;
  };

  void run(const std::stop_token& stop);
  // Returns false when the API is unavailable (used to cut a draining stop short).
  bool write(const Pending& event);
  bool createEvent(const Pending& event, const std::string& key);
  std::string nextName(const std::string& object_name);
  void remember(const std::string& key, Correlated entry);

  kube::Api& api_;
  Clock& clock_;
  EventRecorderOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  EventRecorderStats stats_;

  // Owned by the writer thread.
  std::unordered_map<std::string, Correlated> correlated_;
  std::list<std::string> lru_;  // most recently used first
  int64_t last_name_nanos_ = 0;

  std::mutex lifecycle_;
  std::jthread thread_;
};

}  // namespace kprof::runtime
