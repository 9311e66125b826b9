// Which policy profiles a pod: selection, rollout by stable hashing, and overlap resolution.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "controllers/policy/pod_info.hpp"
#include "controllers/policy/profiling_policy.hpp"

namespace kprof::controllers {

// FNV-1a, 64 bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(std::string_view data);

// Where a pod falls in a policy's rollout, 0..99: FNV-1a 64 of "<pod uid>/<policy uid>" mod 100.
// It depends on nothing but the two UIDs, so every process and version agrees, and a pod inside a
// 10 % rollout stays inside when the rollout grows.
int rolloutBucket(std::string_view pod_uid, std::string_view policy_uid);
bool inRollout(int percentage, std::string_view pod_uid, std::string_view policy_uid);

// The policy's selector matches the pod: a valid policy, same namespace, pod not finished.
bool selects(const ProfilingPolicy& policy, const PodInfo& pod);
// The policy wants to profile the pod: it selects it, is not being deleted and the pod is in its
// rollout. A pod outside one policy's rollout stays free for another policy to claim.
bool claims(const ProfilingPolicy& policy, const PodInfo& pod);

struct Precedence {
  bool first_wins = true;
  DecidedBy decided_by = DecidedBy::Priority;
};

// Between two policies claiming the same pod: the higher priority wins, then the older
// creationTimestamp, then the smaller namespace/name.
Precedence comparePolicies(const ProfilingPolicy& first, const ProfilingPolicy& second);

// Who profiles a pod. The pointers are those of (or into) the `policies` given to resolveOwners.
struct PodOwnership {
  const ProfilingPolicy* owner = nullptr;      // null: no policy claims the pod
  std::vector<const ProfilingPolicy*> losers;  // the other claimants, in precedence order
};

PodOwnership resolveOwners(std::span<const ProfilingPolicy> policies, const PodInfo& pod);
// The same over pointers, for callers that assemble the set of policies without copying them.
PodOwnership resolveOwners(std::span<const ProfilingPolicy* const> policies, const PodInfo& pod);

}  // namespace kprof::controllers
