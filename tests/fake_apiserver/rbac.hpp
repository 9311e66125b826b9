// Kubernetes RBAC authorization (pure): whether stored Roles, ClusterRoles, RoleBindings and
// ClusterRoleBindings grant a request to its user, with the API server's rules — subjects by
// User, Group or ServiceAccount; a RoleBinding grants only inside its namespace, even when it
// refers to a ClusterRole; verbs, apiGroups and resources match exactly or by "*";
// "pods/status" names a subresource; resourceNames restrict requests that name an object (so
// never list, watch or create). Aggregated ClusterRoles and non-resource URLs are not modelled.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kprof::testing {

// Who asks for what, as the API server's authorizer sees a request.
struct RequestAttributes {
  std::string user;  // "system:serviceaccount:kprof-system:kprof-operator"
  std::vector<std::string> groups;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection
  std::string api_group;
  std::string resource;     // "pods"
  std::string subresource;  // "status" or empty
  std::string ns;           // empty for cluster-scoped resources and all-namespace requests
  std::string name;         // empty for list, watch, create and deletecollection
};

// The RBAC objects as stored (JSON, as the API returns them).
struct RbacPolicy {
  std::vector<nlohmann::json> roles;
  std::vector<nlohmann::json> cluster_roles;
  std::vector<nlohmann::json> role_bindings;
  std::vector<nlohmann::json> cluster_role_bindings;
};

bool rbacAllows(const RbacPolicy& policy, const RequestAttributes& request);

// The API server's wording: User "u" cannot patch resource "pods" in API group "" in the
// namespace "shop".
std::string forbiddenReason(const RequestAttributes& request);

}  // namespace kprof::testing
