#include "controllers/policy/ownership.hpp"

#include <algorithm>
#include <tuple>

namespace kprof::controllers {

uint64_t fnv1a64(std::string_view data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

int rolloutBucket(std::string_view pod_uid, std::string_view policy_uid) {
  std::string key;
  key.reserve(pod_uid.size() + 1 + policy_uid.size());
  key.append(pod_uid).append("/").append(policy_uid);
  return static_cast<int>(fnv1a64(key) % 100);
}

bool inRollout(int percentage, std::string_view pod_uid, std::string_view policy_uid) {
  return rolloutBucket(pod_uid, policy_uid) < percentage;
}

bool selects(const ProfilingPolicy& policy, const PodInfo& pod) {
  return policy.valid() && !pod.finished() &&
         pod.namespace_name == policy.metadata.namespace_name &&
         selectorMatches(policy.spec.selector, pod.labels);
}

bool claims(const ProfilingPolicy& policy, const PodInfo& pod) {
  return selects(policy, pod) && !policy.metadata.deletion_timestamp &&
         inRollout(policy.spec.rollout_percentage, pod.uid, policy.metadata.uid);
}

Precedence comparePolicies(const ProfilingPolicy& first, const ProfilingPolicy& second) {
  if (first.spec.priority != second.spec.priority) {
    return {first.spec.priority > second.spec.priority, DecidedBy::Priority};
  }
  if (first.metadata.creation_timestamp != second.metadata.creation_timestamp) {
    return {first.metadata.creation_timestamp < second.metadata.creation_timestamp,
            DecidedBy::CreationTimestamp};
  }
  const auto first_key = std::tie(first.metadata.namespace_name, first.metadata.name);
  const auto second_key = std::tie(second.metadata.namespace_name, second.metadata.name);
  return {first_key <= second_key, DecidedBy::Name};
}

PodOwnership resolveOwners(std::span<const ProfilingPolicy> policies, const PodInfo& pod) {
  std::vector<const ProfilingPolicy*> pointers;
  pointers.reserve(policies.size());
  for (const ProfilingPolicy& policy : policies) {
    pointers.push_back(&policy);
  }
  return resolveOwners(std::span<const ProfilingPolicy* const>(pointers), pod);
}

PodOwnership resolveOwners(std::span<const ProfilingPolicy* const> policies, const PodInfo& pod) {
  std::vector<const ProfilingPolicy*> claimants;
  for (const ProfilingPolicy* policy : policies) {
    if (claims(*policy, pod)) {
      claimants.push_back(policy);
    }
  }
  std::sort(claimants.begin(), claimants.end(), [](const auto* a, const auto* b) {
    return comparePolicies(*a, *b).first_wins && !comparePolicies(*b, *a).first_wins;
  });
  PodOwnership ownership;
  if (!claimants.empty()) {
    ownership.owner = claimants.front();
    ownership.losers.assign(claimants.begin() + 1, claimants.end());
  }
  return ownership;
}

}  // namespace kprof::controllers
