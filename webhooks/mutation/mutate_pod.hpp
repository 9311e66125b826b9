// Deciding what kprof adds to a pod at admission: pure functions over the request's raw pod JSON,
// the policies of its namespace, the namespace and the webhook's configuration. No I/O, no clock.
// The result is an RFC 6902 patch computed against the raw object (see json_diff.hpp), so fields
// kprof does not model are never dropped; a second pass over the mutated pod gives an empty patch.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controllers/policy/profiling_policy.hpp"

namespace kprof::webhooks {

inline constexpr std::string_view kInjectAnnotation = "kprof.dev/inject";           // "true"|policy|"false"
inline constexpr std::string_view kModeAnnotation = "kprof.dev/mode";               // preload|ebpf
inline constexpr std::string_view kContainerNamesAnnotation = "kprof.dev/container-names";
inline constexpr std::string_view kInjectedAnnotation = "kprof.dev/injected";       // set by kprof
inline constexpr std::string_view kInjectionNamespaceLabel = "kprof.dev/injection";  // "enabled"
inline constexpr std::string_view kPodSecurityEnforceLabel = "pod-security.kubernetes.io/enforce";
inline constexpr std::string_view kAgentContainerName = "kprof-agent";
inline constexpr std::string_view kPreloadInitContainerName = "kprof-preload";

struct ContainerResources {
  std::string cpu_request = "10m";
  std::string memory_request = "64Mi";
  std::string cpu_limit = "200m";
  // eBPF maps are charged to the container's memory cgroup: ~34 MiB of stack maps on top of the
  // agent's ~24 MiB peak (docs/benchmarks.md, "Agent footprint").
  std::string memory_limit = "128Mi";

  bool operator==(const ContainerResources&) const = default;
};

// The webhook's own settings (operator flags / Helm values).
struct InjectionConfig {
  std::string agent_image = "ghcr.io/kprof/kprof-agent:latest";
  std::string preload_image = "ghcr.io/kprof/kprof-preload:latest";  // holds /kprof/libkprof.so
  std::string image_pull_policy = "IfNotPresent";
  ContainerResources agent_resources;
  std::string operator_namespace = "kprof-system";  // never injected
  std::string operator_url = "https://kprof-operator.kprof-system.svc:8443";  // agent config API
  // The API server's version decides the sidecar's form: native (restartPolicy: Always init
  // container) from 1.29, a regular container before.
  int cluster_major = 1;
  int cluster_minor = 29;

  bool operator==(const InjectionConfig&) const = default;
};

struct NamespaceInfo {
  std::string name;
  std::map<std::string, std::string> labels;
};

enum class MutationOutcome {
  Injected,        // the patch adds kprof
  AlreadyInjected, // nothing to do: the pod already carries everything (empty patch)
  NotSelected,     // not opted in, opted out, or an excluded namespace / mirror pod (empty patch)
  Invalid,         // the object is not a pod kprof can read (empty patch, a warning)
};
std::string_view mutationOutcomeName(MutationOutcome outcome);  // for metric labels

struct MutationResult {
  MutationOutcome outcome = MutationOutcome::NotSelected;
  nlohmann::json patch = nlohmann::json::array();  // RFC 6902 operations
  std::vector<std::string> warnings;               // shown to the user by kubectl
  std::string reason;                              // one line for logs: why this outcome
  std::string policy;                              // the policy whose settings were used
};

// The whole decision for one pod. `policies` are all ProfilingPolicies of the pod's namespace
// (the function picks the one that owns the pod, or the one the inject annotation names).
MutationResult mutatePod(const nlohmann::json& pod,
                         std::span<const controllers::ProfilingPolicy> policies,
                         const NamespaceInfo& pod_namespace,
                         const InjectionConfig& config);

}  // namespace kprof::webhooks
