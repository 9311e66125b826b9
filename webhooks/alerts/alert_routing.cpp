#include "webhooks/alerts/alert_routing.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "controllers/policy/rfc3339.hpp"

namespace kprof::webhooks {
namespace {

using controllers::NewSnapshot;
using controllers::SnapshotTrigger;

constexpr size_t kMaxPods = 256;           // the CRD's limit on targets.pods
constexpr size_t kMaxAlertLabels = 64;     // and on spec.alert.labels
constexpr size_t kMaxLabelValue = 1024;
constexpr size_t kMaxFingerprints = 64;
constexpr size_t kMaxNameLength = 253;

const std::string* label(const Alert& alert, const std::string& name) {
  const auto found = alert.labels.find(name);
  return found == alert.labels.end() || found->second.empty() ? nullptr : &found->second;
}

bool matchesTrigger(const Alert& alert, const SnapshotTrigger& trigger) {
  return std::all_of(trigger.matchers.begin(), trigger.matchers.end(),
                     [&](const controllers::AlertMatcher& matcher) {
                       return controllers::matchesLabels(matcher, alert.labels);
                     });
}

// The pods of `policy` the alert names; all of them when it names none.
std::vector<std::string> podsNamedBy(const Alert& alert, const RoutablePolicy& policy) {
  if (const std::string* ns = label(alert, "namespace"); ns && *ns != policy.namespace_name) {
    return {};
  }
  const std::string* pod_name = label(alert, "pod");
  const std::string* workload = nullptr;
  for (const char* key : {"deployment", "statefulset", "daemonset", "workload"}) {
    if (workload == nullptr) workload = label(alert, key);
  }
  const std::string* container = label(alert, "container");
  std::vector<std::string> pods;
  for (const RoutablePod& pod : policy.pods) {
    if (pod_name && pod.name != *pod_name) continue;
    if (workload && pod.workload != *workload) continue;
    if (container && std::find(pod.containers.begin(), pod.containers.end(), *container) ==
                         pod.containers.end()) {
      continue;
    }
    pods.push_back(pod.name);
  }
  return pods;
}

// What identifies an alert across re-sends: Alertmanager's fingerprint and the firing's start.
std::string alertIdentity(const Alert& alert) {
  const std::string who = alert.fingerprint.empty() ? nlohmann::json(alert.labels).dump() : alert.fingerprint;
  return who + "|" + alert.starts_at;
}

bool isLowerHex(const std::string& text) {
  return !text.empty() && text.size() <= 64 &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The alert as the CRD can hold it: bounded labels, a fingerprint and time only when well-formed.
controllers::SnapshotAlert recordedAlert(const Alert& alert) {
  controllers::SnapshotAlert out;
  const auto name = alert.labels.find("alertname");
  out.name = name == alert.labels.end() ? "" : name->second.substr(0, kMaxLabelValue);
  if (isLowerHex(alert.fingerprint)) out.fingerprint = alert.fingerprint;
  if (controllers::parseRfc3339(alert.starts_at)) out.starts_at = alert.starts_at;
  for (const auto& [key, value] : alert.labels) {
    if (out.labels.size() == kMaxAlertLabels) break;
    out.labels[key] = value.substr(0, kMaxLabelValue);
  }
  return out;
}

std::string where(const RoutablePolicy& policy, const SnapshotTrigger& trigger) {
  return policy.namespace_name + "/" + policy.name + "/" + trigger.name;
}

struct TriggerHistory {
  std::optional<WallTime> latest;
  int running = 0;
};

TriggerHistory historyOf(const std::vector<KnownSnapshot>& known, const RoutablePolicy& policy,
                         const SnapshotTrigger& trigger) {
  TriggerHistory history;
  for (const KnownSnapshot& snapshot : known) {
    if (snapshot.namespace_name != policy.namespace_name || snapshot.policy != policy.name ||
        snapshot.trigger != trigger.name) {
      continue;
    }
    if (!history.latest || snapshot.created > *history.latest) history.latest = snapshot.created;
    if (!snapshot.terminal) ++history.running;
  }
  return history;
}

bool exists(const std::vector<KnownSnapshot>& known, const std::string& ns, const std::string& name) {
  return std::any_of(known.begin(), known.end(), [&](const KnownSnapshot& snapshot) {
    return snapshot.namespace_name == ns && snapshot.name == name;
  });
}

// One trigger's firing alerts → at most one new snapshot.
void planTrigger(const RoutablePolicy& policy, const SnapshotTrigger& trigger,
                 const std::vector<const Alert*>& firing, const std::vector<KnownSnapshot>& known,
                 WallTime now, AlertRouting& routing) {
  std::vector<const Alert*> alerts;
  std::set<std::string> named;
  for (const Alert* alert : firing) {
    const std::vector<std::string> pods = podsNamedBy(*alert, policy);
    if (pods.empty()) continue;
    alerts.push_back(alert);
    named.insert(pods.begin(), pods.end());
  }
  const std::string at = where(policy, trigger);
  if (alerts.empty()) {
    routing.notes.push_back(at + ": the alert names no pod this policy profiles");
    return;
  }
  std::sort(alerts.begin(), alerts.end(), [](const Alert* a, const Alert* b) {
    return alertIdentity(*a) < alertIdentity(*b);
  });
  std::string identity;
  std::vector<std::string> fingerprints;
  for (const Alert* alert : alerts) {
    identity += alertIdentity(*alert) + "\n";
    if (fingerprints.size() < kMaxFingerprints && isLowerHex(alert->fingerprint)) {
      fingerprints.push_back(alert->fingerprint);
    }
  }
  const std::string name = policy.name + "-" + trigger.name + "-" + controllers::shortHash(identity);
  if (policy.name.size() > 63 || name.size() > kMaxNameLength) {
    routing.notes.push_back(at + ": policy name too long for a snapshot (63 characters at most)");
    return;
  }
  if (exists(known, policy.namespace_name, name)) {
    routing.notes.push_back(at + ": already captured as " + name + " (a re-sent alert)");
    return;
  }
  const TriggerHistory history = historyOf(known, policy, trigger);
  if (history.latest && now < *history.latest + std::chrono::seconds(trigger.cooldown_seconds)) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(
        *history.latest + std::chrono::seconds(trigger.cooldown_seconds) - now);
    routing.notes.push_back(at + ": in cooldown, " + std::to_string(left.count()) + "s left");
    return;
  }
  if (history.running >= trigger.max_concurrent) {
    routing.notes.push_back(at + ": " + std::to_string(history.running) +
                            " snapshot(s) running, the trigger's maxConcurrent");
    return;
  }

  NewSnapshot snapshot;
  snapshot.namespace_name = policy.namespace_name;
  snapshot.name = name;
  snapshot.policy_uid = policy.uid;
  snapshot.spec.policy = policy.name;
  snapshot.spec.trigger = trigger.name;
  snapshot.spec.alert = recordedAlert(*alerts.front());
  for (const RoutablePod& pod : policy.pods) {  // the policy's order: stable across re-sends
    if (named.contains(pod.name) && snapshot.spec.pods.size() < kMaxPods) {
      snapshot.spec.pods.push_back(pod.name);
    }
  }
  if (named.size() > kMaxPods) {
    routing.notes.push_back(at + ": " + std::to_string(named.size()) +
                            " pods named, capturing the first 256");
  }
  snapshot.spec.duration_seconds = trigger.duration_seconds;
  snapshot.spec.rate_hz = trigger.rate_hz;
  snapshot.spec.types.clear();
  for (controllers::ProfileType type : trigger.types) {
    snapshot.spec.types.emplace_back(controllers::profileTypeName(type));
  }
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  snapshot.annotations[std::string(controllers::kAlertReceivedAnnotation)] =
      controllers::formatRfc3339Millis(now_ms);
  if (!fingerprints.empty()) {
    std::string joined;
    for (const std::string& fingerprint : fingerprints) {
      joined += (joined.empty() ? "" : ",") + fingerprint;
    }
    snapshot.annotations[std::string(controllers::kAlertFingerprintsAnnotation)] = joined;
  }
  routing.create.push_back(std::move(snapshot));
}

const SnapshotTrigger* findTrigger(const std::vector<RoutablePolicy>& policies,
                                   const KnownSnapshot& snapshot) {
  for (const RoutablePolicy& policy : policies) {
    if (policy.namespace_name != snapshot.namespace_name || policy.name != snapshot.policy) continue;
    for (const SnapshotTrigger& trigger : policy.triggers) {
      if (trigger.name == snapshot.trigger) return &trigger;
    }
  }
  return nullptr;
}

void planStops(const std::vector<Alert>& alerts, const std::vector<RoutablePolicy>& policies,
               const std::vector<KnownSnapshot>& known, AlertRouting& routing) {
  std::set<std::string> resolved, firing;
  for (const Alert& alert : alerts) {
    (alert.firing() ? firing : resolved).insert(alert.fingerprint);
  }
  for (const KnownSnapshot& snapshot : known) {
    if (snapshot.terminal || snapshot.stop_requested) continue;
    const SnapshotTrigger* trigger = findTrigger(policies, snapshot);
    if (trigger == nullptr || !trigger->stop_on_resolve) continue;
    bool any_resolved = false, any_firing = false;
    for (const std::string& fingerprint : snapshot.fingerprints) {
      any_resolved = any_resolved || resolved.contains(fingerprint);
      any_firing = any_firing || firing.contains(fingerprint);
    }
    if (any_resolved && !any_firing) {
      routing.stop.push_back({snapshot.namespace_name, snapshot.name});
    }
  }
}

}  // namespace

AlertRouting routeAlerts(const std::vector<Alert>& alerts,
                         const std::vector<RoutablePolicy>& policies,
                         const std::vector<KnownSnapshot>& known,
                         WallTime now) {
  AlertRouting routing;
  for (const RoutablePolicy& policy : policies) {
    for (const SnapshotTrigger& trigger : policy.triggers) {
      std::vector<const Alert*> firing;
      for (const Alert& alert : alerts) {
        if (alert.firing() && matchesTrigger(alert, trigger)) firing.push_back(&alert);
      }
      if (!firing.empty()) planTrigger(policy, trigger, firing, known, now, routing);
    }
  }
  planStops(alerts, policies, known, routing);
  return routing;
}

RoutablePod routablePod(const nlohmann::json& pod) {
  RoutablePod out;
  if (!pod.is_object()) return out;
  const nlohmann::json metadata = pod.value("metadata", nlohmann::json::object());
  out.name = metadata.value("name", "");
  for (const nlohmann::json& owner : metadata.value("ownerReferences", nlohmann::json::array())) {
    // The controlling owner; the operator's pod cache keeps only kind and name of each owner.
    if (!owner.is_object() || !owner.value("controller", true)) continue;
    std::string name = owner.value("name", "");
    if (owner.value("kind", "") == "ReplicaSet") {
      const auto dash = name.rfind('-');  // <deployment>-<pod-template-hash>
      if (dash != std::string::npos && dash > 0) name.resize(dash);
    }
    out.workload = name;
    break;
  }
  const nlohmann::json spec = pod.value("spec", nlohmann::json::object());
  for (const nlohmann::json& container : spec.value("containers", nlohmann::json::array())) {
    if (container.is_object()) out.containers.push_back(container.value("name", ""));
  }
  return out;
}

KnownSnapshot knownSnapshot(const controllers::ProfileSnapshot& snapshot) {
  KnownSnapshot out;
  out.namespace_name = snapshot.metadata.namespace_name;
  out.name = snapshot.metadata.name;
  out.policy = snapshot.spec.policy;
  out.trigger = snapshot.spec.trigger;
  out.created = snapshot.metadata.creation_timestamp;
  out.terminal = snapshot.terminal();
  const auto& annotations = snapshot.metadata.annotations;
  out.stop_requested = annotations.contains(std::string(controllers::kStopRequestedAnnotation));
  if (auto list = annotations.find(std::string(controllers::kAlertFingerprintsAnnotation));
      list != annotations.end()) {
    std::string rest = list->second;
    for (size_t at = 0; at <= rest.size();) {
      const size_t comma = rest.find(',', at);
      const std::string item = rest.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!item.empty()) out.fingerprints.push_back(item);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  return out;
}

}  // namespace kprof::webhooks
