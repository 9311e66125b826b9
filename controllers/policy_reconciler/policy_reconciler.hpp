// The ProfilingPolicy reconciler: the thin shell around planPolicy. Level-based: a key is
// "namespace/name" whatever happened; it reads the informers' caches, plans, and applies the plan:
//   - the status, written whole with PUT to the status subresource when it changed (a stale
//     resourceVersion gives Conflict, which the caller retries with backoff);
//   - pod label JSON patches, which start with `test` operations, so a patch planned from a stale
//     cache fails whole (InvalidArgument) instead of overwriting newer labels: requeued;
//   - agent configs, published to the agent config API for the pods the policy enrolls and
//     retracted for the pods it no longer does;
//   - Events on condition transitions.
// When the policy no longer exists, the pods still labeled kprof.dev/policy=<name> get their
// kprof labels removed (or taken over by another policy) and its agent configs are retracted. No
// finalizer is needed for that: a pod that names a missing policy enqueues that key (see
// policyKeysForPod).
//
// Replicas that do not hold the lease plan too (so their agent config API serves the same configs)
// but write nothing to the API server: setWriting(false).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "controllers/policy/plan_policy.hpp"
#include "operator/kube/api.hpp"

namespace kprof::controllers {

// What the reconciler reads: the informers' caches, as shared immutable snapshots so a reconcile
// copies no object.
using CachedObject = std::shared_ptr<const kube::Object>;

class PolicyCache {
 public:
  virtual ~PolicyCache() = default;
  // nullptr when absent.
  virtual CachedObject policy(std::string_view ns, std::string_view name) const = 0;
  virtual std::vector<CachedObject> policies(std::string_view ns) const = 0;
  virtual std::vector<CachedObject> pods(std::string_view ns) const = 0;
};

// Where agent configs go: the agent config API's registry, keyed "namespace/pod".
class AgentConfigSink {
 public:
  virtual ~AgentConfigSink() = default;
  virtual void publish(const std::string& pod_key, const nlohmann::json& config) = 0;
  virtual void retract(const std::string& pod_key) = 0;
  // When the pod's agent last polled or reported; nullopt if never.
  virtual std::optional<WallTime> lastReport(const std::string& pod_key) const = 0;
};

// Records a Kubernetes Event about `involved` (never blocks).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void record(const kube::Object& involved, const PolicyEvent& event) = 0;
};

// What one reconcile did, for logs, metrics and tests.
struct ReconcileReport {
  NextAction next;
  bool status_written = false;
  int labels_patched = 0;
  int configs_published = 0;
  int configs_retracted = 0;
};

class PolicyReconciler {
 public:
  PolicyReconciler(kube::Api& api,
                   const PolicyCache& cache,
                   AgentConfigSink& agents,
                   EventSink& events,
                   const Clock& clock);

  // Fails with the first API error that needs a retry (Conflict, InvalidArgument from a failed
  // patch test, Unavailable, ...); the caller requeues with backoff. A pod that vanished is not
  // an error.
  Result<ReconcileReport> reconcile(std::string_view key);

  void setWriting(bool writing) { writing_ = writing; }
  bool writing() const { return writing_; }

 private:
  Result<ReconcileReport> reconcileMissing(std::string_view ns, std::string_view name);
  Status patchLabels(std::string_view ns, const std::vector<PodLabelPatch>& patches,
                     ReconcileReport& report);
  void publishConfigs(const std::string& policy_key, const std::vector<AgentConfig>& configs,
                      ReconcileReport& report);

  kube::Api& api_;
  const PolicyCache& cache_;
  AgentConfigSink& agents_;
  EventSink& events_;
  const Clock& clock_;
  std::atomic<bool> writing_{true};
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> published_;  // policy key → pod keys
};

// The policy keys a pod change concerns: the policies of the pod's namespace that select it now
// (or whose spec is invalid, so their status can say so) and the policy its kprof.dev/policy label
// names, which may no longer select it or exist. A policy that selected the pod before the change
// and does not now has labeled it (and is named by the label) or lost it to another policy
// (whose change it learns of at the next resync). When the pod is gone, the caller enqueues every
// policy of the namespace.
std::vector<std::string> policyKeysForPod(const kube::Object& pod,
                                          const std::vector<CachedObject>& namespace_policies);

// "namespace/name" ↔ parts.
std::string objectKey(std::string_view ns, std::string_view name);
std::pair<std::string, std::string> splitKey(std::string_view key);

}  // namespace kprof::controllers
