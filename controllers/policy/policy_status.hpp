// ProfilingPolicy status: conditions in the metav1.Condition shape, pod counts, conflicts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controllers/policy/rfc3339.hpp"

namespace kprof::controllers {

enum class ConditionStatus { True, False, Unknown };

std::string_view conditionStatusName(ConditionStatus status);

struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::Unknown;
  int64_t observed_generation = 0;
  WallTime last_transition_time{};
  std::string reason;   // CamelCase, for machines
  std::string message;  // for humans

  bool operator==(const Condition&) const = default;
};

// Which rule settled an overlap between two policies (see docs/resources.md).
enum class DecidedBy { Priority, CreationTimestamp, Name };

std::string_view decidedByName(DecidedBy rule);

// Another policy that selects some of the same pods.
struct PolicyConflict {
  std::string policy;
  int pods = 0;        // pods both policies claim
  std::string winner;  // the one of the two that takes precedence
  DecidedBy decided_by = DecidedBy::Priority;

  bool operator==(const PolicyConflict&) const = default;
};

// The newest ProfileSnapshot a policy's triggers started; written by the snapshot controller.
struct LastSnapshot {
  std::string name;
  std::string trigger;
  std::string alert;
  std::optional<WallTime> started_at;

  bool operator==(const LastSnapshot&) const = default;
};

struct PolicyStatus {
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  int matched_pods = 0;    // pods the selector matches
  int enrolled_pods = 0;   // matched pods this policy profiles, after rollout and conflicts
  int injected_pods = 0;   // enrolled pods carrying the agent
  int reporting_pods = 0;  // injected pods whose agent reported recently
  std::vector<PolicyConflict> conflicts;
  // Owned by the snapshot controller; the policy controller carries it through.
  std::optional<LastSnapshot> last_snapshot;

  bool operator==(const PolicyStatus&) const = default;
};

const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type);

// The condition to write next: `desired` with its lastTransitionTime set to `now` when the status
// changed (or the condition is new), else kept from `previous` — the metav1.Condition contract.
Condition withTransitionTime(const std::vector<Condition>& previous,
                             Condition desired,
                             WallTime now);

nlohmann::json toJson(const PolicyStatus& status);

// Reads a stored status leniently: fields that do not parse are left at their zero value, since a
// bad status must never stop the controller from writing a good one.
PolicyStatus readPolicyStatus(const nlohmann::json& status);

}  // namespace kprof::controllers
