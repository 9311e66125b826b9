// The agent's side of the operator's agent config API: long-polls GET /v1/agents/config with the
// pod's projected service-account token, hands each new config to a callback, and posts status
// reports to POST /v1/agents/report.
//
// Guarantees:
// - the token file is re-read before every request, so kubelet's token rotation is picked up;
// - errors (transport, 401/403, 5xx, bad bodies) are retried with jittered exponential backoff,
//   never faster than the server's Retry-After; the HTTP client is re-created after a failure,
//   so a restarted operator (or a renewed CA file) is picked up;
// - every config version is handed to the callback once; a config the callback rejects is not
//   asked for again (the poller moves to its version) and the rejection is reported;
// - a "pending" answer (nothing published for this pod) leaves the running config alone;
// - run() returns within about a second of its stop token being requested, even mid-poll.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/configpoll/remote_config.hpp"
#include "common/core/backoff.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/http/client.hpp"

namespace kprof::agent {

// Where the webhook mounts the agent's projected token (audience "kprof").
inline constexpr std::string_view kDefaultOperatorTokenFile = "/var/run/secrets/kprof/token";

struct ConfigPollerOptions {
  std::string operator_url;  // "https://kprof-operator.kprof.svc:8443"
  std::string token_file = std::string(kDefaultOperatorTokenFile);
  std::string ca_file;  // PEM CA bundle for an https operator URL; empty: the system store
  // One poll may take the operator's poll timeout (30 s by default) plus the network.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  // Reports go out after each new config and at least this often while the operator answers.
  std::chrono::milliseconds report_interval{std::chrono::seconds(30)};
  // Polls that change nothing are at least this far apart, should a proxy answer at once.
  std::chrono::milliseconds min_poll_interval{std::chrono::seconds(1)};
  BackoffPolicy backoff{std::chrono::seconds(1), std::chrono::seconds(60), 2.0, 0.2};
};

// Reads the operator settings: --operator-url/--token-file/--operator-ca when given, else
// KPROF_OPERATOR_URL, KPROF_OPERATOR_TOKEN_FILE, KPROF_OPERATOR_CA_FILE. nullopt when no operator
// URL is set (the agent then runs on its local configuration only).
struct OperatorFlags {
  std::optional<std::string> operator_url, token_file, ca_file;
};
Result<std::optional<ConfigPollerOptions>> operatorSettings(
    const OperatorFlags& flags, const std::map<std::string, std::string>& environment);

struct ConfigUpdate {
  int64_t version = 0;
  nlohmann::json config;
};

// Applies a new config; an error says why it was not applied (it is reported to the operator).
// Runs on the poller's thread.
using ConfigHandler = std::function<Status(const ConfigUpdate& update)>;
// The agent's status for reports (engine, samples, drops, last upload, errors, ...). The poller
// adds "config": {"version": N, "error": "..."}.
using StatusSource = std::function<nlohmann::json()>;

struct PollerStats {
  uint64_t polls = 0;     // answered with 200
  uint64_t failures = 0;  // errors of any kind
  uint64_t configs = 0;   // new configs handed to the handler
  uint64_t rejected = 0;  // of which the handler refused
  uint64_t reports = 0;   // accepted by the operator
  int64_t version = 0;    // the last version handed to the handler
  std::string last_error;
};

class ConfigPoller {
 public:
  ConfigPoller(ConfigPollerOptions options,
               Clock& clock,
               ConfigHandler on_config,
               StatusSource status = nullptr);

  // Polls until `stop` is requested.
  void run(std::stop_token stop);

  // One long poll: true when a new config was handed to the handler, false for an unchanged
  // or pending answer (or a stop). Errors carry the server's Retry-After, if any.
  Result<bool> pollOnce(std::stop_token stop = {});
  // Posts one report now. Reports have an HTTP client of their own, so report() may run while
  // a poll waits.
  Status report();
  // Thread-safe: while run() runs, posts a report as soon as possible without waiting for the
  // poll in flight (a snapshot capture started or ended). Requests made while one is being
  // posted are folded into one more report.
  void requestReport();
  // run() and pollOnce() share one HTTP client: call them from one thread at a time. stats(),
  // report() and requestReport() may be called from any thread.

  PollerStats stats() const;

 private:
  Result<http::Client*> client(std::unique_ptr<http::Client>& slot);
  // run()'s second thread: posts the reports requestReport() asks for.
  void postRequestedReports(std::stop_token stop);
  Result<std::string> readToken() const;
  nlohmann::json reportBody() const;
  void failed(const Error& error);

  ConfigPollerOptions options_;
  Clock& clock_;
  ConfigHandler on_config_;
  StatusSource status_;
  Backoff backoff_;
  std::unique_ptr<http::Client> client_;  // only the run()/pollOnce() thread touches it
  std::mutex report_mutex_;               // one report at a time
  std::unique_ptr<http::Client> report_client_;
  std::mutex request_mutex_;
  std::condition_variable_any report_requested_;
  bool report_wanted_ = false;
  mutable std::mutex mutex_;
  PollerStats stats_;
  std::string config_error_;  // why the last config was not applied
};

}  // namespace kprof::agent
