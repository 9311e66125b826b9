// The few fields of a Pod the kprof controllers read, so caches hold little per pod.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "controllers/policy/label_selector.hpp"
#include "controllers/policy/rfc3339.hpp"

namespace kprof::controllers {

// The status annotation the admission webhook writes on pods it injected the agent into.
inline constexpr std::string_view kInjectedAnnotation = "kprof.dev/injected";

struct ContainerInfo {
  std::string name;
  std::string image;

  bool operator==(const ContainerInfo&) const = default;
};

struct PodInfo {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  Labels labels;
  Labels annotations;
  std::vector<ContainerInfo> containers;  // spec.containers in order; init containers excluded
  std::string phase;                      // Pending, Running, Succeeded, Failed, Unknown
  WallTime creation_timestamp{};
  std::string node_name;
  bool injected = false;  // kprof.dev/injected is present and not "false"
  // When the pod's agent last reported to the operator's agent config API. Not a pod field: the
  // shell fills it in from the agent registry before planning.
  std::optional<WallTime> last_agent_report;

  // Succeeded and Failed pods have stopped for good; policies ignore them.
  bool finished() const { return phase == "Succeeded" || phase == "Failed"; }

  bool operator==(const PodInfo&) const = default;
};

// Reads a Pod object (as from the API or an informer). Fails only without a name.
Result<PodInfo> readPodInfo(const nlohmann::json& pod);

}  // namespace kprof::controllers
