// The agent's configuration: defaults, then a YAML file, then KPROF_* environment variables,
// then command-line flags (applied by the caller) — later sources win. Pure functions over text
// and a map of variables, so every rule is testable without a process environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.hpp"

namespace kprof::agent {

struct PyroscopeTargetConfig {
  std::string url;
  std::string tenant_id;
  std::string basic_user;
  std::string basic_password_file;  // secrets come from files (mounted Secrets), not the config
  std::string bearer_token_file;
};

struct AgentConfig {
  // Series labels.
  std::string service_name;
  std::string env;
  std::string version;
  std::string namespace_name;
  std::string pod;
  std::string container;
  std::string node;
  std::map<std::string, std::string> extra_labels;

  // What to sample.
  std::string targets = "pidns:self";  // "pidns:self" (the sidecar's pod), "all", or "pids:1,2"
  std::vector<std::string> profile_types = {"cpu"};
  uint32_t frequency_hz = 100;
  std::chrono::seconds upload_interval{10};
  std::string engine = "auto";  // auto, ebpf, perf

  // Where profiles go.
  std::vector<PyroscopeTargetConfig> pyroscope;
  std::string file_directory;  // empty: no file export
  size_t queue_max_items = 64;
  size_t queue_max_bytes = 4 * 1024 * 1024;
  std::chrono::seconds upload_timeout{10};

  // The agent's own endpoints: GET /metrics and /healthz.
  std::string listen_address = "0.0.0.0";
  uint16_t listen_port = 9464;

  std::string log_level = "info";
  std::string log_format = "text";
};

// Applies a YAML document (the keys are those of AgentConfig, in snake_case; see
// docs/agent-config.md) over `base`. Unknown keys are an error naming the key, so a typo does not
// silently fall back to a default.
Result<AgentConfig> applyYaml(AgentConfig base, const std::string& yaml_text);

// Applies KPROF_* variables over `base`: KPROF_SERVICE_NAME, KPROF_ENV, KPROF_VERSION,
// KPROF_NAMESPACE, KPROF_POD_NAME, KPROF_CONTAINER_NAME, KPROF_NODE_NAME, KPROF_TARGETS,
// KPROF_PROFILE_TYPES, KPROF_FREQUENCY_HZ, KPROF_UPLOAD_INTERVAL_SECONDS, KPROF_ENGINE,
// KPROF_PYROSCOPE_URL, KPROF_PYROSCOPE_TENANT_ID, KPROF_PYROSCOPE_BASIC_USER,
// KPROF_PYROSCOPE_BASIC_PASSWORD_FILE, KPROF_PYROSCOPE_BEARER_TOKEN_FILE, KPROF_FILE_DIRECTORY,
// KPROF_LISTEN_PORT, KPROF_LOG_LEVEL, KPROF_LOG_FORMAT.
Result<AgentConfig> applyEnvironment(AgentConfig base,
                                     const std::map<std::string, std::string>& environment);

// Checks ranges and combinations; the message names the setting.
Status validate(const AgentConfig& config);

// The series labels a profile of this agent carries (empty values left out).
std::map<std::string, std::string> seriesLabels(const AgentConfig& config);

// The process environment as a map, for applyEnvironment.
std::map<std::string, std::string> processEnvironment();

}  // namespace kprof::agent
