#include "controllers/policy/policy_status.hpp"

namespace kprof::controllers {
namespace {

int64_t intField(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string stringField(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string_view conditionStatusName(ConditionStatus status) {
  switch (status) {
    case ConditionStatus::True:
      return "True";
    case ConditionStatus::False:
      return "False";
    case ConditionStatus::Unknown:
      return "Unknown";
  }
  return "Unknown";
}

std::string_view decidedByName(DecidedBy rule) {
  switch (rule) {
    case DecidedBy::Priority:
      return "Priority";
    case DecidedBy::CreationTimestamp:
      return "CreationTimestamp";
    case DecidedBy::Name:
      return "Name";
  }
  return "Priority";
}

const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& condition : conditions) {
    if (condition.type == type) {
      return &condition;
    }
  }
  return nullptr;
}

Condition withTransitionTime(const std::vector<Condition>& previous,
                             Condition desired,
                             WallTime now) {
  const Condition* before = findCondition(previous, desired.type);
  desired.last_transition_time = before != nullptr && before->status == desired.status
                                     ? before->last_transition_time
                                     : truncateToSeconds(now);
  return desired;
}

nlohmann::json toJson(const PolicyStatus& status) {
  nlohmann::json conditions = nlohmann::json::array();
  for (const Condition& condition : status.conditions) {
    conditions.push_back({
        {"type", condition.type},
        {"status", conditionStatusName(condition.status)},
        {"observedGeneration", condition.observed_generation},
        {"lastTransitionTime", formatRfc3339(condition.last_transition_time)},
        {"reason", condition.reason},
        {"message", condition.message},
    });
  }
  nlohmann::json conflicts = nlohmann::json::array();
  for (const PolicyConflict& conflict : status.conflicts) {
    conflicts.push_back({
        {"policy", conflict.policy},
        {"pods", conflict.pods},
        {"winner", conflict.winner},
        {"decidedBy", decidedByName(conflict.decided_by)},
    });
  }
  nlohmann::json out = {
      {"observedGeneration", status.observed_generation},
      {"conditions", conditions},
      {"matchedPods", status.matched_pods},
      {"enrolledPods", status.enrolled_pods},
      {"injectedPods", status.injected_pods},
      {"reportingPods", status.reporting_pods},
      {"conflicts", conflicts},
  };
  if (status.last_snapshot) {
    const LastSnapshot& snapshot = *status.last_snapshot;
    nlohmann::json& last = out["lastSnapshot"] = {{"name", snapshot.name}};
    if (!snapshot.trigger.empty()) {
      last["trigger"] = snapshot.trigger;
    }
    if (!snapshot.alert.empty()) {
      last["alert"] = snapshot.alert;
    }
    if (snapshot.started_at) {
      last["startedAt"] = formatRfc3339(*snapshot.started_at);
    }
  }
  return out;
}

PolicyStatus readPolicyStatus(const nlohmann::json& status) {
  PolicyStatus out;
  if (!status.is_object()) {
    return out;
  }
  out.observed_generation = intField(status, "observedGeneration");
  out.matched_pods = static_cast<int>(intField(status, "matchedPods"));
  out.enrolled_pods = static_cast<int>(intField(status, "enrolledPods"));
  out.injected_pods = static_cast<int>(intField(status, "injectedPods"));
  out.reporting_pods = static_cast<int>(intField(status, "reportingPods"));
  const auto conditions = status.find("conditions");
  if (conditions != status.end() && conditions->is_array()) {
    for (const nlohmann::json& item : *conditions) {
      if (!item.is_object() || stringField(item, "type").empty()) {
        continue;
      }
      Condition condition;
      condition.type = stringField(item, "type");
      const std::string state = stringField(item, "status");
      condition.status = state == "True"    ? ConditionStatus::True
                         : state == "False" ? ConditionStatus::False
                                            : ConditionStatus::Unknown;
      condition.observed_generation = intField(item, "observedGeneration");
      auto time = parseRfc3339(stringField(item, "lastTransitionTime"));
      condition.last_transition_time = time ? *time : WallTime{};
      condition.reason = stringField(item, "reason");
      condition.message = stringField(item, "message");
      out.conditions.push_back(std::move(condition));
    }
  }
  const auto conflicts = status.find("conflicts");
  if (conflicts != status.end() && conflicts->is_array()) {
    for (const nlohmann::json& item : *conflicts) {
      if (!item.is_object()) {
        continue;
      }
      PolicyConflict conflict;
      conflict.policy = stringField(item, "policy");
      conflict.pods = static_cast<int>(intField(item, "pods"));
      conflict.winner = stringField(item, "winner");
      const std::string rule = stringField(item, "decidedBy");
      conflict.decided_by = rule == "Name"                ? DecidedBy::Name
                            : rule == "CreationTimestamp" ? DecidedBy::CreationTimestamp
                                                          : DecidedBy::Priority;
      out.conflicts.push_back(std::move(conflict));
    }
  }
  const auto last_snapshot = status.find("lastSnapshot");
  if (last_snapshot != status.end() && last_snapshot->is_object()) {
    LastSnapshot snapshot;
    snapshot.name = stringField(*last_snapshot, "name");
    snapshot.trigger = stringField(*last_snapshot, "trigger");
    snapshot.alert = stringField(*last_snapshot, "alert");
    auto started = parseRfc3339(stringField(*last_snapshot, "startedAt"));
    if (started) {
      snapshot.started_at = *started;
    }
    out.last_snapshot = std::move(snapshot);
  }
  return out;
}

}  // namespace kprof::controllers
