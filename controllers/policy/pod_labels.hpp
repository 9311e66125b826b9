// The kprof.dev/env, kprof.dev/version and kprof.dev/policy labels kprof keeps on profiled pods.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/profiling_policy.hpp"

namespace kprof::controllers {

inline constexpr std::string_view kEnvLabel = "kprof.dev/env";
inline constexpr std::string_view kVersionLabel = "kprof.dev/version";
inline constexpr std::string_view kPolicyLabel = "kprof.dev/policy";
// The label Kubernetes recommends for an application's version; the default version source.
inline constexpr std::string_view kAppVersionLabel = "app.kubernetes.io/version";

// The tag of an image reference: "registry:5000/shop/api:1.4.2@sha256:…" → "1.4.2", an untagged
// "nginx" → "latest" (what the runtime pulls), a digest-only reference → "".
std::string imageTag(std::string_view image);

// Arbitrary text as a label value: characters outside [A-Za-z0-9-_.] become '_', the result is cut
// to 63 characters and trimmed to start and end alphanumeric; "" when nothing is left.
std::string toLabelValue(std::string_view text);

// The pod's version under `source`, as a label value; "" when the source has none.
std::string resolveVersion(const VersionSource& source, const PodInfo& pod);

// The kprof labels the pod should carry while `owner` profiles it: env (when the policy sets an
// environment), version (when one resolves) and policy.
Labels desiredKprofLabels(const ProfilingPolicy& owner, const PodInfo& pod);

// A change to one pod's kprof labels.
struct PodLabelPatch {
  std::string pod_name;
  std::string pod_uid;           // the patch must not land on a pod recreated under the same name
  std::string resource_version;  // guards creating the labels map (see toJsonPatch)
  std::map<std::string, std::string> set;  // labels to add or overwrite
  std::vector<std::string> remove;         // labels to delete; all present when planned
  // Non-empty: apply only while the pod's kprof.dev/policy still has this value, so a removal
  // planned from a stale cache cannot strip labels another policy has just written.
  std::string only_if_policy;
  bool pod_has_labels = true;  // false: the pod had no labels, so the patch creates the map

  bool operator==(const PodLabelPatch&) const = default;
};

// The patch that brings the pod's three kprof labels to `desired` (empty: remove them); nullopt
// when they already match. Other labels are never touched.
std::optional<PodLabelPatch> diffKprofLabels(const PodInfo& pod,
                                             const Labels& desired,
                                             std::string only_if_policy = {});

// The pod's kprof labels given every policy of its namespace: the owner's labels when a policy
// claims it; removed when it carries kprof.dev/policy of a policy that no longer claims it (or no
// longer exists); untouched while that policy is invalid, so a typo does not churn labels.
std::optional<PodLabelPatch> planPodLabels(const PodInfo& pod,
                                           std::span<const ProfilingPolicy> policies);
std::optional<PodLabelPatch> planPodLabels(const PodInfo& pod,
                                           std::span<const ProfilingPolicy* const> policies);

// RFC 6902 JSON patch for the pods/{name} endpoint (Content-Type application/json-patch+json).
// It starts with `test` operations — the pod UID, the expected kprof.dev/policy value, and the
// resourceVersion when it must create the labels map (an `add` of the whole map would otherwise
// replace labels added since the cache was read) — so the API server applies all of it or none
// (422 on a failed test: re-read and re-plan).
nlohmann::json toJsonPatch(const PodLabelPatch& patch);

// A readable summary for logs and tests ({"pod", "set", "remove", "onlyIfPolicy", ...});
// toJsonPatch is what goes to the API server.
nlohmann::json toJson(const PodLabelPatch& patch);

}  // namespace kprof::controllers
