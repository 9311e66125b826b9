#include "controllers/policy_reconciler/policy_reconciler.hpp"

#include <algorithm>
#include <utility>

#include "controllers/policy/ownership.hpp"
#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/pod_labels.hpp"
#include "controllers/policy/policy_status.hpp"
#include "controllers/policy/profiling_policy.hpp"

namespace kprof::controllers {
namespace {

std::vector<ProfilingPolicy> readPolicies(const std::vector<CachedObject>& objects) {
  std::vector<ProfilingPolicy> policies;
  policies.reserve(objects.size());
  for (const CachedObject& object : objects) {
    if (auto policy = readProfilingPolicy(*object)) {
      policies.push_back(std::move(*policy));
    }
  }
  return policies;
}

}  // namespace

std::string objectKey(std::string_view ns, std::string_view name) {
  return ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
}

std::pair<std::string, std::string> splitKey(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) {
    return {"", std::string(key)};
  }
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

std::vector<std::string> policyKeysForPod(const kube::Object& pod,
                                          const std::vector<CachedObject>& namespace_policies) {
  const auto info = readPodInfo(pod);
  if (!info) {
    return {};
  }
  std::set<std::string> keys;
  // A policy whose selector matches the pod now: its counts, ownership and labels may change.
  for (const CachedObject& object : namespace_policies) {
    const auto policy = readProfilingPolicy(*object);
    if (policy && (!policy->valid() || selects(*policy, *info))) {
      keys.insert(objectKey(info->namespace_name, policy->metadata.name));
    }
  }
  // The policy the pod is labeled with, which may no longer select it or no longer exist: it
  // takes its labels back.
  const auto owner = info->labels.find(std::string(kPolicyLabel));
  if (owner != info->labels.end()) {
    keys.insert(objectKey(info->namespace_name, owner->second));
  }
  return {keys.begin(), keys.end()};
}

PolicyReconciler::PolicyReconciler(kube::Api& api,
                                   const PolicyCache& cache,
                                   AgentConfigSink& agents,
                                   EventSink& events,
                                   const Clock& clock)
    : api_(api), cache_(cache), agents_(agents), events_(events), clock_(clock) {}

Result<ReconcileReport> PolicyReconciler::reconcile(std::string_view key) {
  const auto [ns, name] = splitKey(key);
  const CachedObject object = cache_.policy(ns, name);
  if (!object) {
    return reconcileMissing(ns, name);
  }
  auto policy = readProfilingPolicy(*object);
  if (!policy) {
    return Unexpected{policy.error().wrap("reading ProfilingPolicy " + std::string(key))};
  }
  const std::vector<ProfilingPolicy> namespace_policies = readPolicies(cache_.policies(ns));
  std::vector<PodInfo> pods;
  for (const CachedObject& pod_object : cache_.pods(ns)) {
    auto pod = readPodInfo(*pod_object);
    if (!pod) {
      continue;
    }
    pod->last_agent_report = agents_.lastReport(objectKey(ns, pod->name));
    pods.push_back(std::move(*pod));
  }
  // Pods in name order, so plans (and the order of patches) do not depend on cache iteration.
  std::sort(pods.begin(), pods.end(),
            [](const PodInfo& a, const PodInfo& b) { return a.name < b.name; });

  const PolicyPlan plan = planPolicy(*policy, pods, namespace_policies, clock_.wallNow());
  ReconcileReport report;
  report.next = plan.next;
  if (plan.agent_configs) {
    publishConfigs(std::string(key), *plan.agent_configs, report);
  }
  if (!writing_) {
    return report;
  }
  KPROF_TRY(patchLabels(ns, plan.label_patches, report));
  if (plan.status_changed) {
    kube::Object updated = *object;
    updated["status"] = toJson(plan.status);
    auto written = api_.updateStatus(kube::resources::kProfilingPolicies, ns, updated);
    if (!written) {
      return Unexpected{written.error().wrap("writing status of " + std::string(key))};
    }
    report.status_written = true;
  }
  for (const PolicyEvent& event : plan.events) {
    events_.record(*object, event);
  }
  return report;
}

Result<ReconcileReport> PolicyReconciler::reconcileMissing(std::string_view ns,
                                                           std::string_view name) {
  ReconcileReport report;
  publishConfigs(objectKey(ns, name), {}, report);
  if (!writing_) {
    return report;
  }
  const std::vector<ProfilingPolicy> remaining = readPolicies(cache_.policies(ns));
  std::vector<PodLabelPatch> patches;
  for (const CachedObject& pod_object : cache_.pods(ns)) {
    auto pod = readPodInfo(*pod_object);
    if (!pod) {
      continue;
    }
    const auto owner = pod->labels.find(std::string(kPolicyLabel));
    if (owner == pod->labels.end() || owner->second != name) {
      continue;
    }
    if (auto patch = planPodLabels(*pod, remaining)) {
      patches.push_back(std::move(*patch));
    }
  }
  KPROF_TRY(patchLabels(ns, patches, report));
  return report;
}

Status PolicyReconciler::patchLabels(std::string_view ns,
                                     const std::vector<PodLabelPatch>& patches,
                                     ReconcileReport& report) {
  std::optional<Error> first_error;
  for (const PodLabelPatch& patch : patches) {
    auto patched = api_.patch(kube::resources::kPods, ns, patch.pod_name, kube::PatchType::Json,
                              toJsonPatch(patch), kube::PatchOptions{});
    if (patched) {
      ++report.labels_patched;
    } else if (patched.error().code != ErrorCode::NotFound && !first_error) {
      // Keep going: one pod's stale cache entry should not hold back the others.
      first_error = patched.error().wrap("patching labels of pod " + objectKey(ns, patch.pod_name));
    }
  }
  if (first_error) {
    return Unexpected{*first_error};
  }
  return ok();
}

void PolicyReconciler::publishConfigs(const std::string& policy_key,
                                      const std::vector<AgentConfig>& configs,
                                      ReconcileReport& report) {
  std::set<std::string> now_enrolled;
  for (const AgentConfig& config : configs) {
    const std::string pod_key = objectKey(config.pod_namespace, config.pod_name);
    agents_.publish(pod_key, toJson(config));
    now_enrolled.insert(pod_key);
    ++report.configs_published;
  }
  std::lock_guard lock(mutex_);
  std::set<std::string>& before = published_[policy_key];
  for (const std::string& pod_key : before) {
    if (now_enrolled.contains(pod_key)) {
      continue;
    }
    // Another policy may have enrolled the pod since; retract only what this policy published.
    bool owned_elsewhere = false;
    for (const auto& [other_key, pods] : published_) {
      if (other_key != policy_key && pods.contains(pod_key)) {
        owned_elsewhere = true;
        break;
      }
    }
    if (!owned_elsewhere) {
      agents_.retract(pod_key);
      ++report.configs_retracted;
    }
  }
  if (now_enrolled.empty()) {
    published_.erase(policy_key);
  } else {
    before = std::move(now_enrolled);
  }
}

}  // namespace kprof::controllers
