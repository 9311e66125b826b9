// LeaderElector: runs for leadership on a Lease (see lease.hpp for the decision) so that only
// one operator replica runs the controllers at a time.
//
// A thread reads the Lease every retry period and writes it back with its resourceVersion
// (optimistic concurrency: a Conflict means someone else wrote first; we look again at the next
// try). On becoming leader, on_started_leading runs on its own thread with a stop_token that is
// requested when leadership ends; once it has returned, on_stopped_leading is called, and the
// elector goes back to being a candidate (on_started_leading may run again later). stop() ends
// leading the same way, then releases the lease (when release_on_cancel) so a successor takes
// over at its next try instead of waiting for the lease to expire.
//
// Waits use the injected Clock through an Alarm: with a FakeClock, call stop() inside a
// fakekube::ClockPump.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "common/core/clock.hpp"
#include "operator/kube/api.hpp"
#include "operator/runtime/alarm.hpp"
#include "operator/runtime/lease.hpp"

namespace kprof::runtime {

struct LeaderElectionConfig {
  std::string ns;        // the Lease's namespace
  std::string name;      // the Lease's name
  std::string identity;  // unique per replica: the pod name
  LeaderElectionTiming timing;
  bool release_on_cancel = true;
};

struct LeaderCallbacks {
  // Runs on its own thread while we lead; must return soon after `stop` is requested.
  std::function<void(std::stop_token stop)> on_started_leading;
  std::function<void()> on_stopped_leading;
  // Optional: the holder we saw changed ("" when nobody holds it).
  std::function<void(const std::string& identity)> on_new_leader;
};

struct LeaderElectorStats {
  uint64_t acquisitions = 0;
  uint64_t renewals = 0;
  uint64_t losses = 0;
  uint64_t write_conflicts = 0;
  uint64_t errors = 0;
};

class LeaderElector {
 public:
  LeaderElector(kube::Api& api,
                Clock& clock,
                LeaderElectionConfig config,
                LeaderCallbacks callbacks);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void start();
  // Stops leading (waits for on_started_leading to return), releases the lease, joins. Idempotent.
  void stop();

  bool isLeader() const { return leading_.load(); }
  // The holder last seen on the Lease.
  std::string observedLeader() const;
  LeaderElectorStats stats() const;

 private:
  void run(const std::stop_token& stop);
  // One try: read, decide, write. Returns when to try next.
  Clock::Duration tryOnce();
  void startLeading();
  void stopLeading();
  void release();
  void observe(const std::string& holder);

  kube::Api& api_;
  Clock& clock_;
  LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  Alarm alarm_;

  std::atomic<bool> leading_{false};
  // Owned by the elector thread.
  std::optional<Clock::WallTime> last_renewed_;
  kube::Object stored_;         // the Lease as last read or written
  uint64_t read_failures_ = 0;  // in a row
  std::jthread leading_thread_;

  mutable std::mutex mutex_;  // observed_, stats_
  std::string observed_;
  bool observed_any_ = false;
  LeaderElectorStats stats_;

  std::mutex lifecycle_;
  std::jthread thread_;
};

}  // namespace kprof::runtime
