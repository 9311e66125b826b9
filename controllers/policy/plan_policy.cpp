#include "controllers/policy/plan_policy.hpp"

#include <algorithm>
#include <map>

#include "controllers/policy/ownership.hpp"

namespace kprof::controllers {
namespace {

using std::chrono::seconds;

constexpr size_t kMaxConflictsListed = 64;  // the CRD's maxItems for status.conflicts

std::string plural(int count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

std::string secondsText(seconds value) {
  return std::to_string(value.count()) + "s";
}

Condition makeCondition(std::string_view type,
                        ConditionStatus status,
                        std::string reason,
                        std::string message,
                        int64_t generation) {
  Condition condition;
  condition.type = std::string(type);
  condition.status = status;
  condition.observed_generation = generation;
  condition.reason = std::move(reason);
  condition.message = std::move(message);
  return condition;
}

// Events for conditions whose status or reason differ from before. Degraded=True because of an
// invalid spec repeats what Ready=False says, so it has no event of its own.
std::vector<PolicyEvent> transitionEvents(const std::vector<Condition>& previous,
                                          const std::vector<Condition>& next) {
  std::vector<PolicyEvent> events;
  for (const Condition& condition : next) {
    const Condition* before = findCondition(previous, condition.type);
    if (before != nullptr && before->status == condition.status &&
        before->reason == condition.reason) {
      continue;
    }
    const bool ready = condition.type == kReadyCondition;
    const bool is_true = condition.status == ConditionStatus::True;
    if (ready && is_true) {
      events.push_back({EventType::Normal, "PolicyReady", condition.message});
    } else if (ready || (is_true && condition.reason != "InvalidSpec")) {
      events.push_back({EventType::Warning, condition.reason, condition.message});
    } else if (!is_true && before != nullptr && before->status == ConditionStatus::True) {
      events.push_back({EventType::Normal, "Recovered", "the policy is no longer degraded"});
    }
  }
  return events;
}

PolicyPlan finish(const ProfilingPolicy& policy,
                  PolicyPlan plan,
                  std::vector<Condition> conditions,
                  WallTime now) {
  for (Condition& condition : conditions) {
    condition = withTransitionTime(policy.status.conditions, std::move(condition), now);
  }
  plan.events = transitionEvents(policy.status.conditions, conditions);
  plan.status.conditions = std::move(conditions);
  plan.status.observed_generation = policy.metadata.generation;
  plan.status.last_snapshot = policy.status.last_snapshot;
  plan.status_changed = !(plan.status == policy.status);
  return plan;
}

PolicyPlan planInvalid(const ProfilingPolicy& policy, WallTime now) {
  const int64_t generation = policy.metadata.generation;
  const std::string& problem = policy.spec_error->message;
  std::vector<Condition> conditions = {
      makeCondition(kReadyCondition, ConditionStatus::False, "InvalidSpec", problem, generation),
      makeCondition(kDegradedCondition,
                    ConditionStatus::True,
                    "InvalidSpec",
                    "the policy is not applied: " + problem,
                    generation),
  };
  return finish(policy, PolicyPlan{}, std::move(conditions), now);
}

// Tracks the earliest moment a pod's reporting state flips (a report goes stale, a new pod's
// grace period ends), so the reconciler can come back exactly then.
class NextFlip {
 public:
  explicit NextFlip(WallTime now) : now_(now) {}
  void at(WallTime when) {
    if (when > now_ && (!earliest_ || when < *earliest_)) {
      earliest_ = when;
    }
  }
  NextAction action() const {
    if (!earliest_) {
      return NextAction::awaitChange();
    }
    const auto wait = std::chrono::ceil<seconds>(*earliest_ - now_);
    return NextAction::requeueAfter(std::max(wait, seconds{1}));
  }

 private:
  WallTime now_;
  std::optional<WallTime> earliest_;
};

// What one pass over the namespace's pods finds out for a valid policy.
struct PodTally {
  PolicyStatus counts;  // matched/enrolled/injected/reporting pods and conflicts
  std::vector<AgentConfig> configs;
  std::vector<PodLabelPatch> patches;
  int silent_agents = 0;                           // running, past their grace, not reporting
  std::map<std::string, int> lost_to;              // owner → pods this policy claims but lost
  std::map<std::string, PolicyConflict> overlaps;  // other claimant → shared pods
};

void recordOverlaps(const ProfilingPolicy& policy, const PodOwnership& ownership, PodTally& tally) {
  std::vector<const ProfilingPolicy*> claimants = ownership.losers;
  claimants.push_back(ownership.owner);
  for (const ProfilingPolicy* other : claimants) {
    if (other == &policy) {
      continue;
    }
    const Precedence precedence = comparePolicies(policy, *other);
    PolicyConflict& overlap = tally.overlaps[other->metadata.name];
    overlap.policy = other->metadata.name;
    overlap.winner = precedence.first_wins ? policy.metadata.name : other->metadata.name;
    overlap.decided_by = precedence.decided_by;
    ++overlap.pods;
  }
}

// Counts an enrolled pod's agent as injected, reporting or silent, and notes when that changes.
void recordAgent(
    const PodInfo& pod, seconds window, WallTime now, PodTally& tally, NextFlip& flip) {
  if (!pod.injected) {
    return;
  }
  ++tally.counts.injected_pods;
  if (pod.last_agent_report && now - *pod.last_agent_report < window) {
    ++tally.counts.reporting_pods;
    flip.at(*pod.last_agent_report + window);
  } else if (pod.phase == "Running") {
    if (now - pod.creation_timestamp >= window) {
      ++tally.silent_agents;
    } else {
      flip.at(pod.creation_timestamp + window);
    }
  }
}

Condition readyCondition(const PolicyStatus& counts, int64_t generation) {
  std::string message = counts.matched_pods == 0
                            ? "no pods match the selector"
                            : "profiling " + std::to_string(counts.enrolled_pods) + " of " +
                                  plural(counts.matched_pods, "matched pod") + " (" +
                                  std::to_string(counts.injected_pods) + " injected, " +
                                  std::to_string(counts.reporting_pods) + " reporting)";
  return makeCondition(kReadyCondition, ConditionStatus::True, "Applied", message, generation);
}

// Degraded names every problem in its message; the reason is the first: conflicts, then silence.
Condition degradedCondition(const PodTally& tally, seconds window, int64_t generation) {
  std::vector<std::string> problems;
  std::string reason;
  if (!tally.lost_to.empty()) {
    int lost = 0;
    std::string owners;
    for (const auto& [name, count] : tally.lost_to) {
      lost += count;
      owners += (owners.empty() ? "" : ", ") + name + " (" + std::to_string(count) + ", " +
                std::string(decidedByName(tally.overlaps.at(name).decided_by)) + ")";
    }
    reason = "PolicyConflict";
    problems.push_back(plural(lost, "pod") +
                       " also selected by policies that take precedence: " + owners);
  }
  if (tally.silent_agents > 0) {
    reason = reason.empty() ? "AgentsNotReporting" : reason;
    problems.push_back(std::to_string(tally.silent_agents) + " of " +
                       plural(tally.counts.injected_pods, "injected pod") +
                       " did not report within " + secondsText(window));
  }
  if (problems.empty()) {
    return makeCondition(kDegradedCondition, ConditionStatus::False, "AsExpected", "", generation);
  }
  std::string message;
  for (const std::string& problem : problems) {
    message += (message.empty() ? "" : "; ") + problem;
  }
  return makeCondition(kDegradedCondition, ConditionStatus::True, reason, message, generation);
}

}  // namespace

seconds reportingWindow(const PolicySpec& spec) {
  return std::max(seconds{3 * spec.upload_interval_seconds}, seconds{60});
}

PolicyPlan planPolicy(const ProfilingPolicy& policy,
                      std::span<const PodInfo> pods,
                      std::span<const ProfilingPolicy> namespace_policies,
                      WallTime now) {
  if (!policy.valid()) {
    return planInvalid(policy, now);
  }
  // The policies that compete for pods: this one as given, plus the rest of its namespace.
  std::vector<const ProfilingPolicy*> competitors = {&policy};
  for (const ProfilingPolicy& other : namespace_policies) {
    if (other.metadata.name != policy.metadata.name &&
        other.metadata.namespace_name == policy.metadata.namespace_name) {
      competitors.push_back(&other);
    }
  }

  const seconds window = reportingWindow(policy.spec);
  PodTally tally;
  NextFlip next_flip(now);
  for (const PodInfo& pod : pods) {
    if (pod.namespace_name != policy.metadata.namespace_name || pod.finished()) {
      continue;
    }
    if (selects(policy, pod)) {
      ++tally.counts.matched_pods;
    }
    const PodOwnership ownership = resolveOwners(competitors, pod);
    const bool claimed = ownership.owner == &policy ||
                         std::find(ownership.losers.begin(), ownership.losers.end(), &policy) !=
                             ownership.losers.end();
    if (claimed) {
      recordOverlaps(policy, ownership, tally);
    }
    std::optional<PodLabelPatch> patch;
    if (ownership.owner == &policy) {
      ++tally.counts.enrolled_pods;
      tally.configs.push_back(buildAgentConfig(policy, pod));
      recordAgent(pod, window, now, tally, next_flip);
      patch = diffKprofLabels(pod, desiredKprofLabels(policy, pod));
    } else if (claimed) {
      ++tally.lost_to[ownership.owner->metadata.name];
    } else if (ownership.owner == nullptr) {
      // Nobody claims the pod: take back the labels this policy wrote. When another policy
      // claims it, that policy overwrites them instead.
      const auto labeled = pod.labels.find(std::string(kPolicyLabel));
      if (labeled != pod.labels.end() && labeled->second == policy.metadata.name) {
        patch = diffKprofLabels(pod, {}, policy.metadata.name);
      }
    }
    if (patch) {
      tally.patches.push_back(std::move(*patch));
    }
  }

  PolicyPlan plan;
  plan.status = tally.counts;
  for (const auto& [name, overlap] : tally.overlaps) {
    if (plan.status.conflicts.size() == kMaxConflictsListed) {
      break;
    }
    plan.status.conflicts.push_back(overlap);
  }
  plan.agent_configs = std::move(tally.configs);
  plan.label_patches = std::move(tally.patches);
  plan.next = policy.metadata.deletion_timestamp ? NextAction::awaitChange() : next_flip.action();
  const int64_t generation = policy.metadata.generation;
  std::vector<Condition> conditions = {readyCondition(plan.status, generation),
                                       degradedCondition(tally, window, generation)};
  return finish(policy, std::move(plan), std::move(conditions), now);
}

nlohmann::json toJson(const PolicyPlan& plan) {
  nlohmann::json configs = nullptr;
  if (plan.agent_configs) {
    configs = nlohmann::json::array();
    for (const AgentConfig& config : *plan.agent_configs) {
      configs.push_back(toJson(config));
    }
  }
  nlohmann::json patches = nlohmann::json::array();
  for (const PodLabelPatch& patch : plan.label_patches) {
    patches.push_back(toJson(patch));
  }
  nlohmann::json events = nlohmann::json::array();
  for (const PolicyEvent& event : plan.events) {
    events.push_back({{"type", event.type == EventType::Warning ? "Warning" : "Normal"},
                      {"reason", event.reason},
                      {"message", event.message}});
  }
  nlohmann::json next = plan.next.kind == NextAction::Kind::AwaitChange
                            ? nlohmann::json{{"awaitChange", true}}
                            : nlohmann::json{{"requeueAfterSeconds", plan.next.after.count()}};
  return {
      {"status", toJson(plan.status)},
      {"statusChanged", plan.status_changed},
      {"agentConfigs", configs},
      {"labelPatches", patches},
      {"events", events},
      {"next", next},
  };
}

}  // namespace kprof::controllers
