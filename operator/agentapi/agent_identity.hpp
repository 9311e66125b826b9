// Who an agent is, as the Kubernetes API server vouches for it: agents send their pod's projected
// service-account token and the operator asks the API server about it with a TokenReview. Pure
// functions here build the review and read its answer; the I/O is in token_reviewer.hpp.
//
// Only tokens bound to a pod are accepted: a bound token names the pod (and its uid) in the
// review's user.extra, and the API server refuses it once that pod is gone. A plain service
// account token could be replayed from anywhere and would not say which pod's config to send.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::agentapi {

inline constexpr std::string_view kPodNameExtra = "authentication.kubernetes.io/pod-name";
inline constexpr std::string_view kPodUidExtra = "authentication.kubernetes.io/pod-uid";
// The audience agents request their projected token for. A token for the API server's own
// audience is refused, so the token an agent hands the operator is useless against the API server.
inline constexpr std::string_view kAgentTokenAudience = "kprof";

struct AgentIdentity {
  std::string namespace_name;
  std::string pod_name;
  std::string pod_uid;
  std::string service_account;

  // "namespace/pod": the key the config registry files the agent under.
  std::string key() const;
  bool operator==(const AgentIdentity&) const = default;
};

// The registry key for a pod: "namespace/name".
std::string agentKey(std::string_view namespace_name, std::string_view pod_name);

// The TokenReview object to create for `token`. With `audiences` empty the API server checks the
// token against its own audiences.
nlohmann::json tokenReviewRequest(std::string_view token, const std::vector<std::string>& audiences);

// Reads a TokenReview as the API server returned it (status filled in).
// - status.authenticated false or missing → Unauthenticated (with status.error when given);
// - authenticated but not a service account ("system:serviceaccount:NS:SA"), or without the
//   pod-name/pod-uid extras → PermissionDenied;
// - a malformed object → Parse.
// When `audiences` is not empty, status.audiences (if present) must include one of them, else
// Unauthenticated: a token minted for another audience is not meant for us.
Result<AgentIdentity> identityFromTokenReview(const nlohmann::json& review,
                                              const std::vector<std::string>& audiences = {});

}  // namespace kprof::agentapi
