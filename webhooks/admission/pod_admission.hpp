// AdmissionReview v1 for POST /mutate-pods: request body in, response body out. Pure apart from
// the lookups it is handed. It fails open on every error path: whatever arrives, the answer is a
// valid AdmissionReview with allowed: true (plus a warning when kprof could not do its part), so
// the webhook never blocks a pod.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "webhooks/mutation/mutate_pod.hpp"

namespace kprof::webhooks {

// What the handler needs from the operator's caches.
class AdmissionLookup {
 public:
  virtual ~AdmissionLookup() = default;
  // The namespace's name and labels; a namespace the cache does not know gives just the name.
  virtual NamespaceInfo namespaceInfo(const std::string& name) = 0;
  // Every ProfilingPolicy in the namespace.
  virtual std::vector<controllers::ProfilingPolicy> policies(const std::string& namespace_name) = 0;
};

enum class AdmissionResult {
  Mutated,    // allowed with a patch
  Unchanged,  // allowed, nothing to add (not selected, already injected)
  FailedOpen, // allowed without a patch because something went wrong (warning says what)
};
std::string_view admissionResultName(AdmissionResult result);  // "mutated", "unchanged", "failed_open"

struct AdmissionAnswer {
  std::string body;  // the AdmissionReview response, always valid JSON
  AdmissionResult result = AdmissionResult::Unchanged;
  MutationOutcome outcome = MutationOutcome::NotSelected;
  std::string reason;  // for the log line
};

// Reads an AdmissionReview (apiVersion admission.k8s.io/v1, kind AdmissionReview), mutates
// request.object when it is a Pod CREATE, and answers with the request's uid, allowed: true, a
// base64 JSONPatch when there is one, and warnings. A body that is not an AdmissionReview at all
// still gets a valid AdmissionReview back (uid empty).
AdmissionAnswer admitPod(std::string_view body,
                         AdmissionLookup& lookup,
                         const InjectionConfig& config);

}  // namespace kprof::webhooks
