// POST /alerts: Alertmanager's webhook receiver (payload version 4). The handler only checks the
// bearer token, reads the payload and queues it, so Alertmanager gets its 2xx in well under its
// timeout; one worker thread hands queued notifications to the snapshot starter in order.
//
//   401  missing or wrong bearer token (http_config.authorization); nothing is processed
//   400  malformed payload, with the field at fault
//   413  body over kMaxAlertPayloadBytes (the server's limit)
//   503  the queue is full or the token cannot be read; Alertmanager retries
//   200  {"queued": <alerts>}
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/http/server.hpp"
#include "operator/kube/api.hpp"
#include "webhooks/alerts/alert_payload.hpp"

namespace kprof::webhooks {

inline constexpr std::string_view kAlertsPath = "/alerts";
// A notification carries a group's alerts; Alertmanager's max_alerts truncates large groups.
inline constexpr std::size_t kMaxAlertPayloadBytes = 1 << 20;

// The token Alertmanager must present. Re-read on use, so a rotated Secret or file takes effect
// without a restart.
class AlertToken {
 public:
  virtual ~AlertToken() = default;
  virtual Result<std::string> current() = 0;
};

// A file, as a mounted Secret provides it; surrounding whitespace is ignored.
class FileAlertToken final : public AlertToken {
 public:
  explicit FileAlertToken(std::string path) : path_(std::move(path)) {}
  Result<std::string> current() override;

 private:
  std::string path_;
};

// A key of a Secret, read through the API at most every 30 s.
class SecretAlertToken final : public AlertToken {
 public:
  SecretAlertToken(kube::Api& api, const Clock& clock, std::string ns, std::string name,
                   std::string key);
  Result<std::string> current() override;

 private:
  kube::Api& api_;
  const Clock& clock_;
  std::string ns_, name_, key_;
  std::mutex mutex_;
  std::optional<Result<std::string>> cached_;
  Clock::SteadyTime read_at_{};
};

struct ReceivedAlerts {
  AlertPayload payload;
  Clock::WallTime received_at;
};
using AlertHandler = std::function<void(const ReceivedAlerts& alerts)>;

struct AlertReceiverOptions {
  std::size_t queue_capacity = 64;
};

class AlertReceiver {
 public:
  // `token`, `clock` and `registry` must outlive the receiver; `handler` runs on its worker.
  AlertReceiver(AlertToken& token, AlertHandler handler, const Clock& clock,
                prometheus::Registry& registry, AlertReceiverOptions options = {});
  ~AlertReceiver();  // stop()
  AlertReceiver(const AlertReceiver&) = delete;
  AlertReceiver& operator=(const AlertReceiver&) = delete;

  // Registers POST /alerts; the server must not outlive the receiver.
  void registerRoute(http::Server& server);
  // Answers one request (what the route does); public for tests and the fuzzer.
  http::Response handle(const http::Request& request);

  // Starts the worker. Notifications queued before start() wait for it.
  void start();
  // Processes what is queued, then stops the worker.
  void stop();

 private:
  void work(std::stop_token stop);
  void count(const char* result);

  AlertToken& token_;
  AlertHandler handler_;
  const Clock& clock_;
  AlertReceiverOptions options_;
  prometheus::Family<prometheus::Counter>& notifications_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<ReceivedAlerts> queue_;
  std::jthread worker_;
};

}  // namespace kprof::webhooks
