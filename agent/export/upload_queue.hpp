// The bounded queue between profile building and the network. Producers never block: when the
// queue is over its item or byte budget the oldest uploads are dropped and counted, so memory stays
// bounded however long an ingest target is down.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace kprof::agent {

// One encoded profile on its way to a target.
struct Upload {
  std::string profile_type;  // "cpu", "wall", ...
  std::string series_name;   // Pyroscope app name with labels: "shop.cpu{env=prod,pod=shop-1}"
  std::map<std::string, std::string> series_labels;
  std::chrono::system_clock::time_point from;
  std::chrono::system_clock::time_point until;
  uint32_t sample_rate_hz = 100;
  std::string pprof_gz;  // gzipped profile.proto
  uint32_t attempts = 0;
};

struct UploadQueueLimits {
  size_t max_items = 64;
  size_t max_bytes = 4 * 1024 * 1024;
};

struct UploadQueueStats {
  uint64_t enqueued = 0;
  uint64_t dropped = 0;  // oldest uploads pushed out by newer ones
  size_t items = 0;
  size_t bytes = 0;
};

class UploadQueue {
 public:
  explicit UploadQueue(UploadQueueLimits limits = {}) : limits_(limits) {}

  // Adds at the back; drops from the front until within limits. Never blocks.
  void push(Upload upload);
  // Puts a failed upload back at the front for a retry, unless that would exceed the limits, in
  // which case it is the one dropped (newer data wins).
  void requeueFront(Upload upload);
  // Waits up to `timeout` for an upload; empty on timeout or after close().
  std::optional<Upload> pop(std::chrono::milliseconds timeout);
  // Wakes every waiter; later pops return what is left without waiting.
  void close();

  UploadQueueStats stats() const;

 private:
  void dropOldestOverLimits();

  UploadQueueLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::deque<Upload> items_;
  size_t bytes_ = 0;
  uint64_t enqueued_ = 0;
  uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace kprof::agent
