// Alertmanager's webhook payload (version "4"), read into values. Unknown fields are tolerated;
// what kprof routes on must be there and well-formed, and the error names the field.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.hpp"

namespace kprof::webhooks {

struct Alert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at;  // RFC 3339, as Alertmanager sent it
  std::string ends_at;
  std::string fingerprint;
  std::string generator_url;

  bool firing() const { return status == "firing"; }
  bool operator==(const Alert&) const = default;
};

struct AlertPayload {
  std::string receiver;
  std::string status;  // of the group
  std::string group_key;
  std::string external_url;
  int truncated_alerts = 0;
  std::map<std::string, std::string> group_labels;
  std::map<std::string, std::string> common_labels;
  std::vector<Alert> alerts;
};

// Fails with InvalidArgument naming the field: "alerts[2].labels.severity: must be a string".
Result<AlertPayload> readAlertPayload(std::string_view body);

}  // namespace kprof::webhooks
