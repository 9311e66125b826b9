// What the operator's agent config API says, read as the agent's own configuration. Pure
// functions: the poll response body → (version, config JSON), and that config JSON (the shape
// toJson(AgentConfig) produces on the operator, with target credentials already resolved) applied
// over the agent's startup configuration.
//
// The mapping always starts from the startup configuration (flags, file, environment), never from
// the previous remote config, so the same remote config always gives the same result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/config/agent_config.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

// One answer of GET /v1/agents/config.
struct ConfigAnswer {
  int64_t version = 0;
  bool pending = false;   // nothing is published for this pod: keep what runs
  nlohmann::json config;  // null when pending

  bool operator==(const ConfigAnswer&) const = default;
};

// {"version":N,"config":{...}} or {"version":0,"config":null,"pending":true}.
Result<ConfigAnswer> parseConfigAnswer(std::string_view body);

// Credentials the operator resolved from a Secret; they stay in memory, never on disk.
struct TargetCredentials {
  std::string password;      // basic auth, with PyroscopeTargetConfig::basic_user
  std::string bearer_token;  // bearer auth

  bool operator==(const TargetCredentials&) const = default;
};

struct RemoteAgentConfig {
  AgentConfig config;                          // validated
  std::vector<TargetCredentials> credentials;  // one per config.pyroscope entry, same order
  std::string policy;                          // the ProfilingPolicy behind the config
  int64_t policy_generation = 0;
  // What the agent does not apply, and why: profile types the sidecar does not sample, targets
  // the operator dropped or the agent cannot use. Reported back to the operator.
  std::vector<std::string> notes;
};

// Applies the operator's config over `base`:
// - labels: service_name, env, version, namespace, pod, container set those settings (absent
//   ones keep the base value); every other label replaces the base's extra labels;
// - profiles: cpu.enabled → "cpu", wall.enabled → "wall", cpu.rateHz → frequency_hz (alloc and
//   lock are noted: the sidecar does not sample them);
// - uploadIntervalSeconds → upload_interval;
// - targets replace the base destinations: pyroscope {url, tenantID, auth} and store {url}
//   become Pyroscope-protocol targets, the first file {directory} the file directory.
// Fails (the agent then keeps its current config) when the config is malformed, enables no
// profile type the sidecar samples, leaves no usable destination, or fails validate().
Result<RemoteAgentConfig> applyRemoteConfig(AgentConfig base, const nlohmann::json& remote);

}  // namespace kprof::agent
