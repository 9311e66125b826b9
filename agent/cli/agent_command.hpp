// `kprof agent`: the long-running agent — the sidecar in a pod, or a host agent. Samples the
// targets, uploads a profile per type every interval, serves GET /metrics and /healthz.
#pragma once

#include <optional>
#include <string>

#include "agent/config/agent_config.hpp"

namespace kprof::agent {

struct AgentFlags {
  std::string config_file;
  // Flags override the file and the environment when given.
  std::optional<std::string> service_name, env, version, targets, pyroscope_url, file_directory;
  std::optional<uint32_t> frequency_hz;
  std::optional<uint32_t> upload_interval_seconds;
  std::optional<uint16_t> listen_port;
  std::optional<std::string> profile_types;
  // The operator's agent config API; KPROF_OPERATOR_URL, KPROF_OPERATOR_TOKEN_FILE and
  // KPROF_OPERATOR_CA_FILE when not given.
  std::optional<std::string> operator_url, token_file, operator_ca;
};

int runAgent(const AgentFlags& flags);

// Defaults < config file < KPROF_* environment < flags. With an operator URL the agent may start
// without a destination: the operator's config brings them.
Result<AgentConfig> resolveAgentConfig(const AgentFlags& flags,
                                       const std::map<std::string, std::string>& environment);

}  // namespace kprof::agent
