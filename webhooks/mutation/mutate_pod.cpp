#include "webhooks/mutation/mutate_pod.hpp"

#include <algorithm>
#include <optional>

#include "controllers/policy/agent_config.hpp"
#include "controllers/policy/ownership.hpp"
#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/pod_labels.hpp"
#include "webhooks/mutation/json_diff.hpp"

namespace kprof::webhooks {
namespace {

using controllers::AgentMode;
using controllers::PodInfo;
using controllers::ProfilingPolicy;
using nlohmann::json;

constexpr std::string_view kMirrorAnnotation = "kubernetes.io/config.mirror";
constexpr std::string_view kPreloadVolume = "kprof-preload";
constexpr std::string_view kPreloadDir = "/kprof";
constexpr std::string_view kPreloadLibrary = "/kprof/libkprof.so";
constexpr std::string_view kRunVolume = "kprof-run";
constexpr std::string_view kRunDir = "/var/run/kprof";
constexpr std::string_view kAgentSocket = "/var/run/kprof/agent.sock";
constexpr std::string_view kTokenVolume = "kprof-token";
constexpr std::string_view kTokenDir = "/var/run/secrets/kprof";
constexpr std::string_view kTmpVolume = "kprof-tmp";
constexpr int kAgentUser = 65532;  // the conventional "nonroot" user of distroless images

// The pod's annotations object, or null; by reference, as pods are large and admission is hot.
const json* annotationsOf(const json& pod) {
  auto meta = pod.find("metadata");
  if (meta == pod.end() || !meta->is_object()) return nullptr;
  auto annotations = meta->find("annotations");
  return annotations != meta->end() && annotations->is_object() ? &*annotations : nullptr;
}

std::string annotationOf(const json& pod, std::string_view key) {
  const json* annotations = annotationsOf(pod);
  if (annotations == nullptr) return {};
  auto it = annotations->find(key);
  return it != annotations->end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool hasAnnotation(const json& pod, std::string_view key) {
  const json* annotations = annotationsOf(pod);
  return annotations != nullptr && annotations->contains(key);
}

// --- the opt-in decision ------------------------------------------------------------------------

struct OptIn {
  bool selected = false;
  std::string named_policy;  // the inject annotation named a policy
  std::string reason;
};

OptIn decideOptIn(const json& pod, const NamespaceInfo& ns, const InjectionConfig& config) {
  if (ns.name == "kube-system") return {false, {}, "kube-system is never injected"};
  if (ns.name == config.operator_namespace) {
    return {false, {}, "the operator's own namespace is never injected"};
  }
  if (hasAnnotation(pod, kMirrorAnnotation)) return {false, {}, "mirror pods cannot be changed"};
  const std::string inject = annotationOf(pod, kInjectAnnotation);
  if (inject == "false") return {false, {}, "opted out by kprof.dev/inject: \"false\""};
  if (inject == "true") return {true, {}, "opted in by kprof.dev/inject"};
  if (!inject.empty()) return {true, inject, "opted in by kprof.dev/inject naming a policy"};
  auto label = ns.labels.find(std::string(kInjectionNamespaceLabel));
  if (label != ns.labels.end() && label->second == "enabled") {
    return {true, {}, "opted in by the namespace label kprof.dev/injection=enabled"};
  }
  return {false, {}, "not opted in"};
}

// --- which policy's settings apply ---------------------------------------------------------------

// The policy a new pod falls under. Rollout percentages are not applied here: the pod has no uid
// yet at admission, and the controller decides rollout when it hands the agent its config.
const ProfilingPolicy* choosePolicy(std::span<const ProfilingPolicy> policies, const PodInfo& pod) {
  const ProfilingPolicy* best = nullptr;
  for (const auto& policy : policies) {
    if (!controllers::selects(policy, pod) || policy.metadata.deletion_timestamp) continue;
    if (best == nullptr || !controllers::comparePolicies(*best, policy).first_wins) best = &policy;
  }
  return best;
}

// --- building blocks, each adding only what is missing -------------------------------------------

json& arrayField(json& object, std::string_view key) {
  if (!object.contains(key) || !object[key].is_array()) object[std::string(key)] = json::array();
  return object[std::string(key)];
}

bool hasNamed(const json& array, std::string_view name) {
  return std::any_of(array.begin(), array.end(), [&](const json& item) {
    return item.is_object() && item.value("name", "") == name;
  });
}

void ensureNamed(json& array, json item) {
  if (!hasNamed(array, item["name"].get<std::string>())) array.push_back(std::move(item));
}

json fieldEnv(std::string_view name, std::string_view field_path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", field_path}}}}}};
}

json valueEnv(std::string_view name, std::string_view value) {
  return {{"name", name}, {"value", value}};
}

struct Identity {
  std::string service_name;
  std::string env;
  std::string version;
};

Identity identityFor(const ProfilingPolicy* policy, const PodInfo& pod) {
  Identity identity;
  if (policy != nullptr) {
    auto labels = controllers::profileLabels(*policy, pod);
    identity.service_name = labels["service_name"];
    identity.env = labels["env"];
    identity.version = labels["version"];
    return identity;
  }
  for (auto key : {"app.kubernetes.io/name", "app"}) {
    if (auto it = pod.labels.find(key); it != pod.labels.end()) {
      identity.service_name = it->second;
      return identity;
    }
  }
  identity.service_name = pod.containers.empty() ? pod.namespace_name
                                                 : pod.namespace_name + "/" + pod.containers[0].name;
  return identity;
}

// The pod's identity and the agent's address, for the profiler inside an app container and for
// the sidecar alike.
std::vector<json> kprofEnv(const Identity& identity) {
  std::vector<json> env{valueEnv("KPROF_SERVICE_NAME", identity.service_name)};
  if (!identity.env.empty()) env.push_back(valueEnv("KPROF_ENV", identity.env));
  if (!identity.version.empty()) env.push_back(valueEnv("KPROF_VERSION", identity.version));
  env.push_back(fieldEnv("KPROF_POD_NAME", "metadata.name"));
  env.push_back(fieldEnv("KPROF_NAMESPACE", "metadata.namespace"));
  env.push_back(fieldEnv("KPROF_NODE_NAME", "spec.nodeName"));
  env.push_back(valueEnv("KPROF_AGENT_SOCKET", kAgentSocket));
  return env;
}

json resourcesJson(const ContainerResources& resources) {
  return {{"requests", {{"cpu", resources.cpu_request}, {"memory", resources.memory_request}}},
          {"limits", {{"cpu", resources.cpu_limit}, {"memory", resources.memory_limit}}}};
}

// Restricted-level settings in preload mode; root with three capabilities in ebpf mode, which
// only privileged namespaces get. bpf() is refused by common RuntimeDefault seccomp profiles, so
// the ebpf sidecar runs Unconfined — allowed in the privileged namespaces it is used in.
json agentSecurityContext(AgentMode mode) {
  if (mode == AgentMode::Ebpf) {
    return {{"allowPrivilegeEscalation", false},
            {"capabilities", {{"add", {"BPF", "PERFMON", "SYS_PTRACE"}}, {"drop", {"ALL"}}}},
            {"readOnlyRootFilesystem", true},
            {"runAsNonRoot", false},
            {"runAsUser", 0},
            {"seccompProfile", {{"type", "Unconfined"}}}};
  }
  return {{"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", {"ALL"}}}},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true},
          {"runAsUser", kAgentUser},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

json agentContainer(AgentMode mode,
                    bool native_sidecar,
                    const Identity& identity,
                    const InjectionConfig& config) {
  json env = json::array();
  env.push_back(valueEnv("KPROF_OPERATOR_URL", config.operator_url));
  env.push_back(valueEnv("KPROF_OPERATOR_TOKEN_FILE", std::string(kTokenDir) + "/token"));
  for (auto& variable : kprofEnv(identity)) env.push_back(std::move(variable));
  if (mode == AgentMode::Ebpf) {
    env.push_back(valueEnv("KPROF_ENGINE", "ebpf"));
    env.push_back(valueEnv("KPROF_TARGETS", "pidns:self"));
  }
  json container{{"name", kAgentContainerName},
                 {"image", config.agent_image},
                 {"imagePullPolicy", config.image_pull_policy},
                 {"args", {"agent"}},
                 {"env", std::move(env)},
                 {"resources", resourcesJson(config.agent_resources)},
                 {"securityContext", agentSecurityContext(mode)},
                 {"volumeMounts",
                  {{{"name", kTokenVolume}, {"mountPath", kTokenDir}, {"readOnly", true}},
                   {{"name", kRunVolume}, {"mountPath", kRunDir}},
                   {{"name", kTmpVolume}, {"mountPath", "/tmp"}}}}};
  if (native_sidecar) container["restartPolicy"] = "Always";
  return container;
}

json preloadInitContainer(const InjectionConfig& config) {
  return {{"name", kPreloadInitContainerName},
          {"image", config.preload_image},
          {"imagePullPolicy", config.image_pull_policy},
          {"command", {"cp", "/kprof/libkprof.so", "/kprof-out/libkprof.so"}},
          {"resources", resourcesJson(config.agent_resources)},
          {"securityContext", agentSecurityContext(AgentMode::Preload)},
          {"volumeMounts", {{{"name", kPreloadVolume}, {"mountPath", "/kprof-out"}}}}};
}

void ensureVolumes(json& spec, AgentMode mode) {
  json& volumes = arrayField(spec, "volumes");
  ensureNamed(volumes,
              {{"name", kTokenVolume},
               {"projected",
                {{"sources",
                  {{{"serviceAccountToken",
                     {{"audience", "kprof"}, {"expirationSeconds", 3600}, {"path", "token"}}}}}}}}});
  ensureNamed(volumes, {{"name", kRunVolume}, {"emptyDir", json::object()}});
  ensureNamed(volumes, {{"name", kTmpVolume}, {"emptyDir", json::object()}});
  if (mode == AgentMode::Preload) {
    ensureNamed(volumes, {{"name", kPreloadVolume}, {"emptyDir", json::object()}});
  }
}

// The sidecar, as a native sidecar (first init container, restartPolicy Always) from Kubernetes
// 1.29, otherwise as the last regular container.
void ensureAgent(json& spec, json container, bool native_sidecar) {
  if (hasNamed(arrayField(spec, "containers"), kAgentContainerName)) return;
  if (spec.contains("initContainers") && hasNamed(spec["initContainers"], kAgentContainerName)) {
    return;
  }
  if (native_sidecar) {
    json& init = arrayField(spec, "initContainers");
    // After kprof-preload when present, before the pod's own init containers.
    auto position = init.begin();
    if (!init.empty() && init[0].value("name", "") == kPreloadInitContainerName) ++position;
    init.insert(position, std::move(container));
  } else {
    spec["containers"].push_back(std::move(container));
  }
}

void ensurePreloadInit(json& spec, const InjectionConfig& config) {
  json& init = arrayField(spec, "initContainers");
  if (!hasNamed(init, kPreloadInitContainerName)) init.insert(init.begin(), preloadInitContainer(config));
}

std::vector<std::string> splitNames(std::string_view list) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    auto name = list.substr(start, end - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) names.emplace_back(name);
    start = end + 1;
  }
  return names;
}

json* findEnv(json& env, std::string_view name) {
  for (auto& variable : env) {
    if (variable.is_object() && variable.value("name", "") == name) return &variable;
  }
  return nullptr;
}

bool preloadListHas(std::string_view value, std::string_view library) {
  std::size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find_first_of(": ", start);
    if (end == std::string_view::npos) end = value.size();
    if (value.substr(start, end - start) == library) return true;
    start = end + 1;
  }
  return false;
}

// LD_PRELOAD, the library mount and the KPROF_* environment for one app container. False (and a
// warning) when the container's LD_PRELOAD comes from elsewhere and cannot be extended.
bool preloadInto(json& container,
                 const Identity& identity,
                 std::vector<std::string>& warnings) {
  json& env = arrayField(container, "env");
  const std::string name = container.value("name", "");
  json* preload = findEnv(env, "LD_PRELOAD");
  if (preload != nullptr && preload->contains("valueFrom")) {
    warnings.push_back("container " + name +
                       ": LD_PRELOAD comes from valueFrom, so kprof cannot extend it; this "
                       "container is not profiled");
    return false;
  }
  if (preload == nullptr) {
    env.push_back(valueEnv("LD_PRELOAD", kPreloadLibrary));
  } else {
    std::string value = preload->value("value", "");
    if (!preloadListHas(value, kPreloadLibrary)) {
      (*preload)["value"] = value.empty() ? std::string(kPreloadLibrary)
                                          : value + ":" + std::string(kPreloadLibrary);
    }
  }
  for (auto& variable : kprofEnv(identity)) {
    if (findEnv(env, variable["name"].get<std::string>()) == nullptr) env.push_back(std::move(variable));
  }
  json& mounts = arrayField(container, "volumeMounts");
  ensureNamed(mounts, {{"name", kPreloadVolume}, {"mountPath", kPreloadDir}, {"readOnly", true}});
  ensureNamed(mounts, {{"name", kRunVolume}, {"mountPath", kRunDir}});
  return true;
}

void preloadApps(json& spec,
                 const json& pod,
                 const Identity& identity,
                 std::vector<std::string>& warnings) {
  const std::string listed = annotationOf(pod, kContainerNamesAnnotation);
  std::vector<std::string> wanted = splitNames(listed);
  for (const auto& name : wanted) {
    if (!hasNamed(spec["containers"], name)) {
      warnings.push_back("kprof.dev/container-names names " + name +
                         ", which is not a container of this pod");
    }
  }
  for (auto& container : spec["containers"]) {
    if (!container.is_object()) continue;
    const std::string name = container.value("name", "");
    if (name == kAgentContainerName) continue;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    preloadInto(container, identity, warnings);
  }
}

void setLabelsAndAnnotation(json& pod, const controllers::Labels& labels, AgentMode mode) {
  json& meta = pod["metadata"];
  if (!labels.empty()) {
    if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = json::object();
    for (const auto& [key, value] : labels) meta["labels"][key] = value;
  }
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
    meta["annotations"] = json::object();
  }
  meta["annotations"][std::string(kInjectedAnnotation)] = controllers::agentModeName(mode);
}

bool ebpfAllowed(const NamespaceInfo& ns) {
  auto level = ns.labels.find(std::string(kPodSecurityEnforceLabel));
  // No label: Kubernetes' built-in default level, privileged.
  return level == ns.labels.end() || level->second == "privileged";
}

MutationResult invalid(std::string reason) {
  MutationResult result;
  result.outcome = MutationOutcome::Invalid;
  result.warnings.push_back("kprof did not inject its agent: " + reason);
  result.reason = std::move(reason);
  return result;
}

// A PodInfo for a pod that may not have a name yet (generateName) or a namespace in its body.
// Built from the few fields readPodInfo reads, not from a copy of the whole pod.
std::optional<PodInfo> admissionPodInfo(const json& pod, const NamespaceInfo& ns) {
  json meta = pod.contains("metadata") ? pod["metadata"] : json::object();
  if (!meta.contains("name") || !meta["name"].is_string() || meta["name"].get<std::string>().empty()) {
    const bool generated = meta.contains("generateName") && meta["generateName"].is_string();
    meta["name"] = (generated ? meta["generateName"].get<std::string>() : std::string("pod")) + "(new)";
  }
  meta["namespace"] = ns.name;
  json spec{{"containers", json::array()}};
  for (const auto& container : pod["spec"]["containers"]) {
    spec["containers"].push_back(
        {{"name", container.value("name", "")}, {"image", container.value("image", "")}});
  }
  if (pod["spec"].contains("nodeName")) spec["nodeName"] = pod["spec"]["nodeName"];
  json minimal{{"metadata", std::move(meta)}, {"spec", std::move(spec)}};
  if (pod.contains("status")) minimal["status"] = pod["status"];
  auto info = controllers::readPodInfo(minimal);
  if (!info) return std::nullopt;
  return std::move(*info);
}

}  // namespace

std::string_view mutationOutcomeName(MutationOutcome outcome) {
  switch (outcome) {
    case MutationOutcome::Injected: return "injected";
    case MutationOutcome::AlreadyInjected: return "already_injected";
    case MutationOutcome::NotSelected: return "not_selected";
    case MutationOutcome::Invalid: return "invalid";
  }
  return "invalid";
}

MutationResult mutatePod(const json& pod,
                         std::span<const ProfilingPolicy> policies,
                         const NamespaceInfo& pod_namespace,
                         const InjectionConfig& config) {
  if (!pod.is_object()) return invalid("the object is not a JSON object");
  if (pod.contains("metadata") && !pod["metadata"].is_object()) {
    return invalid("metadata is not an object");
  }
  const OptIn opt_in = decideOptIn(pod, pod_namespace, config);
  MutationResult result;
  result.reason = opt_in.reason;
  if (!opt_in.selected) return result;

  if (!pod.contains("spec") || !pod["spec"].is_object() || !pod["spec"].contains("containers") ||
      !pod["spec"]["containers"].is_array() || pod["spec"]["containers"].empty()) {
    return invalid("spec.containers is missing or empty");
  }
  for (const auto& container : pod["spec"]["containers"]) {
    if (!container.is_object() || !container.contains("name") || !container["name"].is_string()) {
      return invalid("a container has no name");
    }
  }
  auto info = admissionPodInfo(pod, pod_namespace);
  if (!info) return invalid("the pod's metadata cannot be read");

  const ProfilingPolicy* policy = nullptr;
  if (!opt_in.named_policy.empty()) {
    auto named = std::find_if(policies.begin(), policies.end(), [&](const ProfilingPolicy& p) {
      return p.metadata.name == opt_in.named_policy;
    });
    if (named == policies.end() || !named->valid()) {
      result.warnings.push_back("kprof.dev/inject names the ProfilingPolicy " + opt_in.named_policy +
                                (named == policies.end() ? ", which does not exist in namespace "
                                                         : ", which is invalid, in namespace ") +
                                pod_namespace.name + "; kprof did not inject its agent");
      result.reason = "named policy unavailable";
      return result;
    }
    policy = &*named;
  } else {
    policy = choosePolicy(policies, *info);
    if (policy == nullptr) {
      result.warnings.push_back(
          "no ProfilingPolicy in namespace " + pod_namespace.name +
          " selects this pod; the kprof agent is injected and waits for one");
    }
  }
  result.policy = policy != nullptr ? policy->metadata.name : "";

  AgentMode mode = policy != nullptr ? policy->spec.mode : AgentMode::Preload;
  const std::string mode_annotation = annotationOf(pod, kModeAnnotation);
  if (mode_annotation == "ebpf") {
    mode = AgentMode::Ebpf;
  } else if (mode_annotation == "preload") {
    mode = AgentMode::Preload;
  } else if (!mode_annotation.empty()) {
    result.warnings.push_back("kprof.dev/mode \"" + mode_annotation +
                              "\" is not preload or ebpf; using preload");
    mode = AgentMode::Preload;
  }
  if (mode == AgentMode::Ebpf && !ebpfAllowed(pod_namespace)) {
    result.warnings.push_back(
        "ebpf mode needs the privileged Pod Security level, and namespace " + pod_namespace.name +
        " enforces " + pod_namespace.labels.at(std::string(kPodSecurityEnforceLabel)) +
        "; kprof falls back to preload mode");
    mode = AgentMode::Preload;
  }

  const Identity identity = identityFor(policy, *info);
  const bool native_sidecar =
      config.cluster_major > 1 || (config.cluster_major == 1 && config.cluster_minor >= 29);

  json mutated = pod;
  json& spec = mutated["spec"];
  ensureVolumes(spec, mode);
  if (mode == AgentMode::Preload) {
    ensurePreloadInit(spec, config);
    preloadApps(spec, pod, identity, result.warnings);
  } else {
    spec["shareProcessNamespace"] = true;
  }
  ensureAgent(spec, agentContainer(mode, native_sidecar, identity, config), native_sidecar);
  setLabelsAndAnnotation(mutated,
                         policy != nullptr ? controllers::desiredKprofLabels(*policy, *info)
                                           : controllers::Labels{},
                         mode);

  result.patch = diffJson(pod, mutated);
  if (result.patch.empty()) {
    result.outcome = MutationOutcome::AlreadyInjected;
    result.reason = "already injected";
  } else {
    result.outcome = MutationOutcome::Injected;
    result.reason = std::string("injected in ") + std::string(controllers::agentModeName(mode)) +
                    " mode";
  }
  return result;
}

}  // namespace kprof::webhooks
