#include "operator/agentapi/agent_identity.hpp"

#include <algorithm>

namespace kprof::agentapi {
namespace {

constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

// The first value of a user.extra entry; the API serializes each as an array of strings.
std::string firstExtra(const nlohmann::json& extra, std::string_view name) {
  if (!extra.is_object()) {
    return "";
  }
  const auto it = extra.find(std::string(name));
  if (it == extra.end() || !it->is_array() || it->empty() || !it->front().is_string()) {
    return "";
  }
  return it->front().get<std::string>();
}

}  // namespace

std::string AgentIdentity::key() const {
  return agentKey(namespace_name, pod_name);
}

std::string agentKey(std::string_view namespace_name, std::string_view pod_name) {
  std::string key;
  key.reserve(namespace_name.size() + 1 + pod_name.size());
  key.append(namespace_name).append("/").append(pod_name);
  return key;
}

nlohmann::json tokenReviewRequest(std::string_view token,
                                  const std::vector<std::string>& audiences) {
  nlohmann::json spec = {{"token", token}};
  if (!audiences.empty()) {
    spec["audiences"] = audiences;
  }
  return {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenReview"}, {"spec", spec}};
}

Result<AgentIdentity> identityFromTokenReview(const nlohmann::json& review,
                                              const std::vector<std::string>& audiences) {
  if (!review.is_object()) {
    return fail(ErrorCode::Parse, "TokenReview: not an object");
  }
  const auto status_it = review.find("status");
  if (status_it == review.end() || !status_it->is_object()) {
    return fail(ErrorCode::Parse, "TokenReview: no status");
  }
  const nlohmann::json& status = *status_it;
  const auto authenticated = status.find("authenticated");
  if (authenticated == status.end() || !authenticated->is_boolean() ||
      !authenticated->get<bool>()) {
    std::string message = "token not authenticated";
    const auto error = status.find("error");
    if (error != status.end() && error->is_string() && !error->get<std::string>().empty()) {
      message += ": " + error->get<std::string>();
    }
    return fail(ErrorCode::Unauthenticated, message);
  }
  if (!audiences.empty()) {
    const auto granted = status.find("audiences");
    if (granted != status.end() && granted->is_array()) {
      const bool any = std::any_of(granted->begin(), granted->end(), [&](const auto& audience) {
        return audience.is_string() &&
               std::find(audiences.begin(), audiences.end(), audience.template get<std::string>()) !=
                   audiences.end();
      });
      if (!any) {
        return fail(ErrorCode::Unauthenticated, "token not issued for this audience");
      }
    }
  }
  const auto user = status.find("user");
  if (user == status.end() || !user->is_object()) {
    return fail(ErrorCode::Parse, "TokenReview: authenticated without status.user");
  }
  const auto username_it = user->find("username");
  const std::string username = username_it != user->end() && username_it->is_string()
                                   ? username_it->get<std::string>()
                                   : std::string();
  if (username.rfind(kServiceAccountPrefix, 0) != 0) {
    return fail(ErrorCode::PermissionDenied,
                "'" + username + "' is not a service account; agents use their pod's token");
  }
  const std::string rest = username.substr(kServiceAccountPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find(':', colon + 1) != std::string::npos) {
    return fail(ErrorCode::PermissionDenied, "malformed service account name '" + username + "'");
  }
  AgentIdentity identity;
  identity.namespace_name = rest.substr(0, colon);
  identity.service_account = rest.substr(colon + 1);
  const auto extra = user->find("extra");
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& extras = extra != user->end() ? *extra : empty;
  identity.pod_name = firstExtra(extras, kPodNameExtra);
  identity.pod_uid = firstExtra(extras, kPodUidExtra);
  if (identity.pod_name.empty() || identity.pod_uid.empty()) {
    return fail(ErrorCode::PermissionDenied,
                "the token of service account " + identity.namespace_name + "/" +
                    identity.service_account +
                    " is not bound to a pod; mount a projected service account token");
  }
  return identity;
}

}  // namespace kprof::agentapi
