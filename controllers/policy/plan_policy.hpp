// planPolicy: everything the ProfilingPolicy controller decides, as a pure function of the policy,
// the pods of its namespace, the namespace's other policies and the time. The shell applies the
// plan: writes the status, patches pod labels, publishes agent configs, records events, requeues.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/policy/agent_config.hpp"
#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/pod_labels.hpp"
#include "controllers/policy/policy_status.hpp"
#include "controllers/policy/profiling_policy.hpp"

namespace kprof::controllers {

inline constexpr std::string_view kReadyCondition = "Ready";
inline constexpr std::string_view kDegradedCondition = "Degraded";

enum class EventType { Normal, Warning };

// A Kubernetes Event to record on the policy.
struct PolicyEvent {
  EventType type = EventType::Normal;
  std::string reason;
  std::string message;

  bool operator==(const PolicyEvent&) const = default;
};

// What the reconciler does once the plan is applied.
struct NextAction {
  enum class Kind { AwaitChange, RequeueAfter };
  Kind kind = Kind::AwaitChange;
  std::chrono::seconds after{0};

  static NextAction awaitChange() { return {}; }
  static NextAction requeueAfter(std::chrono::seconds delay) { return {Kind::RequeueAfter, delay}; }
  bool operator==(const NextAction&) const = default;
};

struct PolicyPlan {
  PolicyStatus status;          // the whole status to write
  bool status_changed = false;  // it differs from the stored one; skip the write when false
  // One per enrolled pod, in pod order. nullopt when the spec is invalid: agents keep their last
  // config until the spec is fixed, as pods keep their labels.
  std::optional<std::vector<AgentConfig>> agent_configs;
  std::vector<PodLabelPatch> label_patches;  // in pod order
  std::vector<PolicyEvent> events;           // on condition transitions only
  NextAction next;
};

// How long an agent's last report counts as recent, and how long a new injected pod may take to
// report first: three upload intervals, at least 60 s (agents also report on every config poll,
// about every 30 s).
std::chrono::seconds reportingWindow(const PolicySpec& spec);

// Plans one policy.
// - `pods`: the pods of the policy's namespace (others are ignored).
// - `namespace_policies`: the policies of that namespace, used to resolve overlaps; `policy`
//   itself may be among them (it is matched by name and the given `policy` is used).
// - `now`: the current wall time; planPolicy never reads a clock.
// The previous status is `policy.status`: lastTransitionTime is kept for conditions whose status
// did not change, and events are emitted only for conditions that changed status or reason.
PolicyPlan planPolicy(const ProfilingPolicy& policy,
                      std::span<const PodInfo> pods,
                      std::span<const ProfilingPolicy> namespace_policies,
                      WallTime now);

// The whole plan as JSON, for debug logs and for tests that compare whole plans readably.
nlohmann::json toJson(const PolicyPlan& plan);

}  // namespace kprof::controllers
