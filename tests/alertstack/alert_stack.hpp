// The real Debian Prometheus and Alertmanager, started on 127.0.0.1 for end-to-end tests: one
// scrape target, one alerting rule, and every alert routed to one webhook receiver.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/core/result.hpp"

namespace kprof::testing {

struct AlertStackOptions {
  std::string directory;        // where configs, data dirs and logs go (created)
  std::string scrape_target;    // "127.0.0.1:PORT" serving /metrics
  std::string alert_rule_expr;  // PromQL, e.g. "kprof_e2e_latency_alarm > 0"
  std::string alert_name;       // e.g. "KprofE2EHighLatency"
  std::map<std::string, std::string> alert_labels;  // extra labels on the rule
  std::string webhook_url;        // the Alertmanager webhook receiver's URL
  std::string bearer_token_file;  // sent as Authorization: Bearer <file contents>; "" for none
  std::chrono::seconds group_wait{1}, group_interval{1}, repeat_interval{3};
};

// Both servers run while this object lives; the destructor stops them (SIGTERM, then SIGKILL).
class AlertStack {
 public:
  // Writes the configs, starts Alertmanager then Prometheus, and waits (30 s each) until both
  // answer /-/ready. Fails with the reason and the log tails otherwise.
  static Result<std::unique_ptr<AlertStack>> start(const AlertStackOptions& options);
  ~AlertStack();
  AlertStack(const AlertStack&) = delete;
  AlertStack& operator=(const AlertStack&) = delete;

  std::string prometheusUrl() const { return prometheus_url_; }
  std::string alertmanagerUrl() const { return alertmanager_url_; }
  // The last lines of both servers' logs, for failure messages.
  std::string logs() const;

 private:
  AlertStack() = default;

  pid_t prometheus_pid_ = -1;
  pid_t alertmanager_pid_ = -1;
  std::string prometheus_url_;
  std::string alertmanager_url_;
  std::string prometheus_log_;
  std::string alertmanager_log_;
};

// True when both binaries are installed; otherwise `why` (if given) names the missing one.
bool alertStackAvailable(std::string* why);

}  // namespace kprof::testing
