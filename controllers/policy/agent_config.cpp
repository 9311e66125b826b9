#include "controllers/policy/agent_config.hpp"

#include "controllers/policy/pod_labels.hpp"

namespace kprof::controllers {
namespace {

std::string serviceName(const PodInfo& pod) {
  for (const char* key : {"app.kubernetes.io/name", "app"}) {
    const auto it = pod.labels.find(key);
    if (it != pod.labels.end() && !it->second.empty()) {
      return it->second;
    }
  }
  if (!pod.containers.empty()) {
    return pod.namespace_name + "/" + pod.containers.front().name;
  }
  return pod.namespace_name + "/" + pod.name;
}

}  // namespace

Labels profileLabels(const ProfilingPolicy& policy, const PodInfo& pod) {
  Labels labels;
  labels["service_name"] = serviceName(pod);
  labels["namespace"] = pod.namespace_name;
  labels["pod"] = pod.name;
  if (!pod.node_name.empty()) {
    labels["node"] = pod.node_name;
  }
  if (!policy.spec.environment.empty()) {
    labels["env"] = policy.spec.environment;
  }
  const std::string version = resolveVersion(policy.spec.version_from, pod);
  if (!version.empty()) {
    labels["version"] = version;
  }
  for (const auto& [name, value] : policy.spec.labels) {
    labels[name] = value;
  }
  return labels;
}

AgentConfig buildAgentConfig(const ProfilingPolicy& policy, const PodInfo& pod) {
  AgentConfig config;
  config.pod_namespace = pod.namespace_name;
  config.pod_name = pod.name;
  config.pod_uid = pod.uid;
  config.policy = policy.metadata.name;
  config.policy_generation = policy.metadata.generation;
  config.mode = policy.spec.mode;
  config.profiles = policy.spec.profiles;
  config.labels = profileLabels(policy, pod);
  config.targets = policy.spec.targets;
  if (config.targets.empty()) {
    config.targets.emplace_back(StoreTarget{});
  }
  config.upload_interval_seconds = policy.spec.upload_interval_seconds;
  config.overhead_cpu_percent = policy.spec.overhead_cpu_percent;
  return config;
}

nlohmann::json toJson(const ProfileTarget& target) {
  if (const auto* pyroscope = std::get_if<PyroscopeTarget>(&target)) {
    nlohmann::json out = {{"url", pyroscope->url}};
    if (!pyroscope->tenant_id.empty()) {
      out["tenantID"] = pyroscope->tenant_id;
    }
    if (pyroscope->auth) {
      const AuthSecretRef& auth = *pyroscope->auth;
      out["authSecretRef"] = {{"name", auth.name},
                              {"key", auth.key},
                              {"type", auth.type == AuthType::Basic ? "basic" : "bearer"}};
      if (!auth.username_key.empty()) {
        out["authSecretRef"]["usernameKey"] = auth.username_key;
      }
    }
    return {{"pyroscope", out}};
  }
  if (const auto* file = std::get_if<FileTarget>(&target)) {
    return {{"file", {{"directory", file->directory}}}};
  }
  const auto& store = std::get<StoreTarget>(target);
  nlohmann::json out = nlohmann::json::object();
  if (!store.url.empty()) {
    out["url"] = store.url;
  }
  return {{"store", out}};
}

nlohmann::json toJson(const AgentConfig& config) {
  nlohmann::json profiles = {
      {"cpu", {{"enabled", config.profiles.cpu.enabled}, {"rateHz", config.profiles.cpu.rate_hz}}},
      {"wall", {{"enabled", config.profiles.wall.enabled}}},
  };
  if (config.profiles.alloc) {
    profiles["alloc"] = {{"meanSampleBytes", config.profiles.alloc->mean_sample_bytes}};
  }
  if (config.profiles.lock) {
    profiles["lock"] = {{"thresholdNanos", config.profiles.lock->threshold_nanos}};
  }
  nlohmann::json targets = nlohmann::json::array();
  for (const ProfileTarget& target : config.targets) {
    targets.push_back(toJson(target));
  }
  nlohmann::json out = {
      {"pod",
       {{"namespace", config.pod_namespace}, {"name", config.pod_name}, {"uid", config.pod_uid}}},
      {"policy", {{"name", config.policy}, {"generation", config.policy_generation}}},
      {"mode", agentModeName(config.mode)},
      {"profiles", profiles},
      {"labels", config.labels},
      {"targets", targets},
      {"uploadIntervalSeconds", config.upload_interval_seconds},
  };
  if (config.overhead_cpu_percent) {
    out["overheadBudget"] = {{"cpuPercent", *config.overhead_cpu_percent}};
  }
  return out;
}

}  // namespace kprof::controllers
