// What the agent in one pod is told to do: the policy's settings resolved for that pod.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/profiling_policy.hpp"

namespace kprof::controllers {

struct AgentConfig {
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
  std::string policy;
  int64_t policy_generation = 0;
  AgentMode mode = AgentMode::Preload;
  ProfileSettings profiles;
  Labels labels;  // attached to every profile
  // Never empty: a policy without targets gets one StoreTarget with no URL, which the agent config
  // API resolves to the operator's embedded kprof-store. Secret references are resolved there too.
  std::vector<ProfileTarget> targets;
  int upload_interval_seconds = 10;
  std::optional<double> overhead_cpu_percent;

  bool operator==(const AgentConfig&) const = default;
};

// The labels on the pod's profiles: service_name (the pod's app.kubernetes.io/name label, else its
// app label, else "<namespace>/<first container>"), namespace, pod, node (when scheduled), env and
// version (when known), then the policy's own labels, which override all of these.
Labels profileLabels(const ProfilingPolicy& policy, const PodInfo& pod);

AgentConfig buildAgentConfig(const ProfilingPolicy& policy, const PodInfo& pod);

// The agent config API's wire shape; field names follow the CRD (rateHz, tenantID, ...).
nlohmann::json toJson(const AgentConfig& config);
nlohmann::json toJson(const ProfileTarget& target);

}  // namespace kprof::controllers
